/** Environment variable carrying a driver's settings (its TOML table, as JSON) to the plugin. */
export const settingsEnv = "PLUGWIRE_DRIVER_SETTINGS";

/**
 * The settings the host configured for this plugin (its driver's TOML table), passed as JSON in
 * PLUGWIRE_DRIVER_SETTINGS. Empty object when none.
 */
export function driverSettings<T = Record<string, unknown>>(env = process.env): T {
  const raw = env[settingsEnv];
  if (raw === undefined || raw === "") return {} as T;
  return JSON.parse(raw) as T;
}
