/** Types of scripts/gen-api-markers.mjs, for the test that checks the committed markers. */
export declare const defaultOutFile: string
export declare function fieldMarkers(comment: string | undefined): Record<string, unknown> | undefined
export declare function generateApiMarkers(protoRoot?: string): string
