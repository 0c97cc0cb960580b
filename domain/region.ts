/**
 * GB/T 2260 administrative-division scope: `520000` (province) covers every `52xxxx`, `520100`
 * (prefecture) covers every `5201xx`, `520102` (county) only itself.
 */
export const isRegionCode = (code: string): boolean => /^\d{6}$/.test(code);

export const regionCovers = (scope: string, region: string): boolean => {
  if (!isRegionCode(scope) || !isRegionCode(region)) return false;
  if (scope.endsWith('0000')) return region.startsWith(scope.slice(0, 2));
  if (scope.endsWith('00')) return region.startsWith(scope.slice(0, 4));
  return scope === region;
};

/** The SQL LIKE prefix that selects every region a scope covers (for read-model queries). */
export const regionPrefix = (scope: string): string =>
  scope.endsWith('0000') ? scope.slice(0, 2) : scope.endsWith('00') ? scope.slice(0, 4) : scope;
