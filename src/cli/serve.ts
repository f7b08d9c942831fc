import { onStopSignal } from '../matrix/index.js'
import { configFromEnv, startServer, UNSANDBOXED_OPT_OUT } from '../serve/index.js'
import type { Command } from './command.js'

export const serve: Command = {
  help: `wharf serve

Runs the registry on one machine: the index repo, artifact store and generated
API live in REGISTRY_DATA_DIR and are created on first start. Serves the static
API, the Run 2.0 routes (search, download, publish), Cargo's publish API
(sparse index at <URL>/cargo/) and the WasmRust REST routes. Stops on Ctrl-C.

Environment:
  PORT                          port to listen on (default 8080; 0 picks a free one)
  HOST                          interface to listen on (default 0.0.0.0)
  REGISTRY_URL                  public base URL (default http://localhost:PORT)
  REGISTRY_DATA_DIR             data directory (default ./registry-data)
  REGISTRY_ADMIN_TOKEN          admin token, namespace * (default: generated once,
                                stored in REGISTRY_DATA_DIR/state/admin-token)
  REGISTRY_TOKENS               publish tokens, ns:token,ns:token (namespaces are
                                created at start when absent)
  REGISTRY_MAX_UPLOAD_MB        largest upload (default 50)
  REGISTRY_RATE_LIMIT_PER_MIN   writes per minute, all clients (default 120;
                                one client gets a quarter of it)
  REGISTRY_NAME                 the registry's name, written into registry.json
                                at the first start (default local)
  PUBLIC_KEY                    the registry's public key (base64, or its id):
                                the server refuses to start with another key
  REGISTRY_SYNC_INTERVAL        sync every peer this often: seconds, or 5m, 1h
                                (default off; POST /registry/sync runs one now)
  REGISTRY_UNSANDBOXED_TESTS    the WasmRust test runs (POST /tests/{id}) run
                                uploaded crates under bubblewrap, and are off
                                without it; ${UNSANDBOXED_OPT_OUT}
                                runs them with the server's rights instead (any
                                other value stops the server)`,
  options: {},
  async run(_args, io) {
    const config = configFromEnv(io.env)
    const server = await startServer({ ...config, log: (text) => io.stdout(text) })
    io.stdout(`wharf registry listening on ${server.url} (data in ${config.dataDir})\n`)
    if (server.generatedToken) {
      io.stdout(
        `\nAdmin token (stored in ${server.adminTokenFile}, mode 0600):\n  ${server.adminToken}\n\nPublish a component:\n` +
          `  curl -X POST ${server.url}/api/v1/packages -H "Authorization: Bearer ${server.adminToken}" \\\n` +
          `    -F name=acme:hello -F version=0.1.0 -F sha256=$(sha256sum hello.wasm | cut -d' ' -f1) -F component=@hello.wasm\n\n`,
      )
    }
    // A stop signal is how a server ends: it closes and exits 0, after what it started has stopped.
    await new Promise((resolve) => onStopSignal(resolve))
    io.stdout('stopping\n')
    await server.close()
    return 0
  },
}
