/**
 * Input limits from the API spec (`components.schemas.Password` / `Name` in openapi.json). `vite.config.ts`
 * reads them at build time into `__SPEC_LIMITS__`, so the hints follow the server without shipping the spec.
 */
const limits = __SPEC_LIMITS__;
export default limits;
