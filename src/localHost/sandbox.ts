export interface RunningSandbox {
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the Partner Center sandbox on the loopback port named by PARTNER_CENTER_BASE_URL. */
export async function startSandboxFor(
  env: NodeJS.ProcessEnv,
  options: { customers?: number },
): Promise<RunningSandbox> {
  void env;
  void options;
  throw new Error('The Partner Center sandbox is not built yet; start with --no-sandbox');
}
