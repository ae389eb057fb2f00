import type { Step } from "../../internal/step.ts";
import { checkStep, stepError } from "../../internal/step.ts";
import { Env } from "../../protocol/env.ts";
import type { Logger } from "../../protocol/hclog.ts";
import { assertCertificatePem, generateTlsIdentity } from "../../transport/auto-mtls.ts";
import type { ServerTls } from "../../transport/auto-mtls-server.ts";

/**
 * AutoMTLS, plugin side: when the host sent its certificate (PLUGIN_CLIENT_CERT), a fresh
 * identity of ours (go-plugin's certificate shape, on P-256), trusting only the host's. Undefined when the
 * host asked for none. Key generation is given up, with the step's error, when its signal fires.
 */
export async function autoMtls(
  step: Step,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<ServerTls | undefined> {
  const hostCert = env[Env.clientCert];
  if (hostCert === undefined || hostCert === "") return undefined;
  assertCertificatePem(hostCert, Env.clientCert);
  checkStep(step);
  const identity = await untilAborted(step, generateTlsIdentity());
  logger.debug("configuring server automatic mTLS");
  return { identity, peerCertPem: hostCert };
}

/** `work`'s result, or the step's error as soon as its signal fires (the work is then left to end unread). */
function untilAborted<T>(step: Step, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stepError(step.signal));
    step.signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => step.signal.removeEventListener("abort", onAbort));
  });
}
