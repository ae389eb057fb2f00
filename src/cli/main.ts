// The plugwire CLI: list, inspect, call, install, outdated, update, doctor, init, build, sign, verify. Exit status 0 ok, 1 failure, 2 usage.
import { Command, CommanderError } from "commander";
import { PluginError } from "../errors/plugin-error.ts";
import type { BuildFlags } from "./commands/build.ts";
import { build } from "./commands/build.ts";
import { call } from "./commands/call.ts";
import { doctor } from "./commands/doctor.ts";
import type { InitFlags } from "./commands/init.ts";
import { init } from "./commands/init.ts";
import { inspect } from "./commands/inspect.ts";
import type { InstallFlags } from "./commands/install.ts";
import { install } from "./commands/install.ts";
import { list } from "./commands/list.ts";
import { outdated, update } from "./commands/outdated.ts";
import type { SignFlags } from "./commands/sign.ts";
import { sign } from "./commands/sign.ts";
import type { VerifyFlags } from "./commands/verify.ts";
import { verify } from "./commands/verify.ts";
import type { CommonFlags } from "./context.ts";
import { cliContext, UsageError } from "./context.ts";
import { packageInfo } from "./package-info.ts";

const common = (command: Command) =>
  command
    .option("-c, --config <file>", "host config (plugwire.toml): handshake, plugin dirs, services")
    .option("--cookie <KEY=VALUE>", "the magic cookie plugins expect (or PLUGWIRE_COOKIE)")
    .option("--protocol-version <n>", "application protocol version to offer")
    .option("--timeout-ms <ms>", "start timeout per plugin (default 5000)")
    .option("--json", "machine-readable output");

let exitCode = 0;
const program = new Command("plugwire")
  .description("Discover, inspect, call and install go-plugin compatible plugins.")
  .version(packageInfo().version, "-V, --version", "print plugwire's version")
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

common(
  program
    .command("list [dirs...]")
    .description("plugins with state, version, source and what they provide")
    .option(
      "--discovery <mode>",
      "all: start every executable found (default); manifest: only plugin packages (plugwire.json/.toml) and paths named one by one",
    ),
).action(async (dirs: string[], flags: CommonFlags) => {
  exitCode = await list(await cliContext(flags, dirs));
});
common(
  program
    .command("inspect <plugin>")
    .description("handshake, negotiated version, TLS, services, health"),
).action(async (target: string, flags: CommonFlags) => {
  exitCode = await inspect(target, await cliContext(flags));
});
const repeat = (value: string, previous: string[] = []) => [...previous, value];
common(
  program
    .command("call <plugin> <target> [json]")
    .description(
      "invoke a provider, package.Service/Method or a net/rpc NAME/Plugin.Method with JSON (argument or stdin), or list services and methods (target `list`); gRPC methods described by reflection, the plugin's descriptors or --proto/--protoset",
    )
    .option(
      "--args-type <go-type>",
      "net/rpc: the argument's Go type (string, []int, map[string]interface{}, struct{Key string; Value []byte}); default: read off the JSON",
    )
    .option(
      "--proto <file>",
      "describe methods with this .proto file (repeatable; compiled with buf or protoc)",
      repeat,
    )
    .option(
      "-I, --import-path <dir>",
      "where --proto imports are found (repeatable; default: the file's directory)",
      repeat,
    )
    .option(
      "--protoset <file>",
      "describe methods with this binary FileDescriptorSet (repeatable)",
      repeat,
    ),
).action(
  async (
    target: string,
    what: string,
    input: string | undefined,
    flags: CommonFlags & {
      proto?: string[];
      importPath?: string[];
      protoset?: string[];
      argsType?: string;
    },
  ) => {
    exitCode = await call(target, what, input, await cliContext(flags), flags);
  },
);
common(
  program
    .command("install [source]")
    .description(
      "install the configuration's services (--config) into the cache and write plugwire.lock, or one plugin from a path, a source directory or a git URL into a plugin directory",
    )
    .option("-d, --dir <plugin-dir>", "install <source>: the plugin directory")
    .option("--ref <ref>", "git branch, tag or commit")
    .option("--cache-dir <dir>", "build and clone cache (default ~/.cache/plugwire)")
    .option("--allow-scripts", "let npm run the dependencies' install scripts (TypeScript sources)")
    .option(
      "--frozen",
      "install exactly what plugwire.lock records; fail instead of changing it (CI)",
    )
    .option("-j, --jobs <n>", "plugins installed at once (default 4)"),
).action(async (source: string | undefined, flags: CommonFlags & InstallFlags) => {
  exitCode = await install(source, flags, await cliContext(flags));
});
common(
  program
    .command("outdated [name]")
    .description(
      "per installable service: the version plugwire.lock records, the highest within its constraint, the highest overall",
    ),
).action(async (name: string | undefined, flags: CommonFlags) => {
  exitCode = await outdated(name, await cliContext(flags));
});
common(
  program
    .command("update [name]")
    .description(
      "resolve the constraints anew (every service, or NAME's only), install and rewrite plugwire.lock",
    )
    .option("--allow-scripts", "let npm run the dependencies' install scripts (TypeScript sources)")
    .option("-j, --jobs <n>", "plugins installed at once (default 4)"),
).action(async (name: string | undefined, flags: CommonFlags & InstallFlags) => {
  const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
  exitCode = await update(name, await cliContext(flags), {
    jobs,
    allowScripts: flags.allowScripts,
  });
});
common(
  program
    .command("doctor [dirs...]")
    .description("explain why each candidate in a plugin directory fails")
    .option(
      "--discovery <mode>",
      "all: start every executable found (default); manifest: only plugin packages (plugwire.json/.toml) and paths named one by one",
    ),
).action(async (dirs: string[], flags: CommonFlags) => {
  exitCode = await doctor(await cliContext(flags, dirs));
});

program
  .command("init <dir>")
  .description("scaffold a project: a .proto, code generation, a plugin, a host and tests")
  .option("--plugwire <spec>", "the plugwire dependency to write (default: this version)")
  .action(async (dir: string, flags: InitFlags) => {
    exitCode = await init(dir, flags);
  });

program
  .command("build <entry>")
  .description(
    "bundle a TypeScript plugin entry into one ES module (as the manager builds installed plugins): the fast start for a host that runs `node FILE` itself",
  )
  .option("-o, --out <file>", "the bundle to write (default: <entry>.bundle.mjs beside it)")
  .option("--snapshot", "also its V8 startup snapshot and <bundle>.sh, which starts it")
  .option("--json", "machine-readable output")
  .action(async (entry: string, flags: BuildFlags) => {
    exitCode = await build(entry, flags);
  });
program
  .command("sign <files...>")
  .description(
    "sign plugin artifacts with an OpenSSH ed25519 key: writes FILE.sig (SSHSIG, namespace plugwire, as ssh-keygen -Y sign)",
  )
  .requiredOption("-k, --key <file>", "an unencrypted OpenSSH ed25519 private key")
  .option("--sums <file>", "write the files' SHA-256 to this SHA256SUMS file and sign it instead")
  .option("--json", "machine-readable output")
  .action(async (files: string[], flags: SignFlags) => {
    exitCode = await sign(files, flags);
  });
program
  .command("verify <files...>")
  .description(
    "check that each file carries a valid signature by a trusted key (FILE.sig, or a signed SHA256SUMS); exit 1 with the reason otherwise",
  )
  .requiredOption(
    "-t, --trusted <file>",
    "trusted public keys: ssh-ed25519 lines or allowed_signers (repeatable)",
    repeat,
  )
  .option("--signature <file>", "the signature of the one FILE (default FILE.sig)")
  .option("--sums <file>", "a SHA256SUMS file listing the files, signed in <file>.sig")
  .option("--json", "machine-readable output")
  .action(async (files: string[], flags: VerifyFlags) => {
    exitCode = await verify(files, flags);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UsageError) {
    process.stderr.write(`plugwire: ${error.message}\n`);
    exitCode = 2;
  } else {
    const failure = PluginError.from(error);
    process.stderr.write(`plugwire: ${failure.message}\n`);
    exitCode = 1;
  }
}
process.exit(exitCode);
