/** Types of scripts/gen-api-schema.mjs, for the test that checks the committed descriptor. */
export declare const defaultProtoRoot: string
export declare const defaultOutFile: string
export declare function generateApiSchema(protoRoot?: string): string
export declare function protoFiles(root: string): string[]
