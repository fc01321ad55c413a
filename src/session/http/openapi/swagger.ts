import type * as Swagger from '@nestjs/swagger';
import { optionalPeer } from '../../runtime/optional-peer.js';

/**
 * The `@nestjs/swagger` decorators the module documents its routes with. `@nestjs/swagger` is an
 * optional peer: when the app has it, these are its decorators and the app's OpenAPI document
 * describes the module's routes; when not, they do nothing and nothing loads it.
 */
const swagger = optionalPeer<typeof Swagger>('@nestjs/swagger');

/** A decorator factory that records nothing: what each one is without `@nestjs/swagger`. */
const inert = (() => () => undefined) as never;

export const ApiBody: typeof Swagger.ApiBody = swagger?.ApiBody ?? inert;
export const ApiExcludeController: typeof Swagger.ApiExcludeController = swagger?.ApiExcludeController ?? inert;
export const ApiExtraModels: typeof Swagger.ApiExtraModels = swagger?.ApiExtraModels ?? inert;
export const ApiHeader: typeof Swagger.ApiHeader = swagger?.ApiHeader ?? inert;
export const ApiNoContentResponse: typeof Swagger.ApiNoContentResponse = swagger?.ApiNoContentResponse ?? inert;
export const ApiOkResponse: typeof Swagger.ApiOkResponse = swagger?.ApiOkResponse ?? inert;
export const ApiOperation: typeof Swagger.ApiOperation = swagger?.ApiOperation ?? inert;
export const ApiParam: typeof Swagger.ApiParam = swagger?.ApiParam ?? inert;
export const ApiProperty: typeof Swagger.ApiProperty = swagger?.ApiProperty ?? inert;
export const ApiPropertyOptional: typeof Swagger.ApiPropertyOptional = swagger?.ApiPropertyOptional ?? inert;
export const ApiResponse: typeof Swagger.ApiResponse = swagger?.ApiResponse ?? inert;
export const ApiSecurity: typeof Swagger.ApiSecurity = swagger?.ApiSecurity ?? inert;
export const ApiTags: typeof Swagger.ApiTags = swagger?.ApiTags ?? inert;
