import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How many sessions were live at one moment (`session_concurrency_samples`), for the peak. */
@Entity({ name: 'session_concurrency_samples' })
export class ConcurrencySampleEntity {
  @PrimaryColumn({ type: 'timestamptz' })
  at!: Date;

  @Column({ type: 'integer' })
  active!: number;
}
