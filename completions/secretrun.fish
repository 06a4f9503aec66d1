# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_secretrun_global_optspecs
    string join \n e/env-file= d/secrets-dir= s/source= env-keys-file= file-vars c/config= no-config no-credentials-directory no-references no-secrets-settings timeout= deadline= allow-insecure-http fallback= no-fallback fallback-only fallback-max-age= r/require= require-from= environment= preserve-env= pristine allow-name= keep-config-vars command= exec supervise subreaper signal-group kill-after= grace-period= mask-output watch= on-change= stop-signal= mount= mount-format= mount-template= file= mount-keep-env v/verbose q/quiet h/help V/version
end

function __fish_secretrun_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_secretrun_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_secretrun_using_subcommand
    set -l cmd (__fish_secretrun_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c secretrun -n "__fish_secretrun_needs_command" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l command -d 'Run STRING with `sh -c` instead of COMMAND' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l kill-after -d 'Kill the command with SIGKILL when it is still running DURATION after a forwarded TERM, INT, QUIT or HUP (implies --supervise)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l grace-period -d 'After the command exits, how long its leftover processes get after SIGTERM before SIGKILL (PID 1 and --subreaper)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l watch -d 'Re-resolve every source each INTERVAL (default 1m) and, when a value changed, restart the command or act as --on-change says (implies --supervise)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l on-change -d 'What a change does: `restart` (stop with --stop-signal, wait --grace-period, SIGKILL, start again; the default) or `signal:SIG` (rewrite the --mount/--file files, send SIG)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l stop-signal -d 'The signal that stops the command for a restart (default TERM)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l mount -d 'Write the secrets to PATH (mode 0600, never replacing a file; a relative PATH goes under $XDG_RUNTIME_DIR or /dev/shm) instead of the environment, tell the command the path in $SECRETRUN_MOUNT, and remove it when the command exits (implies --supervise). `memfd`: an in-memory file, /dev/fd/N to the command, that works in exec mode' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -l mount-format -d 'Format of the --mount file' -r -f -a "dotenv\t'NAME="..." with backslash escapes, as dotenv parsers read it'
json\t'One JSON object, names to values'
env\t'NAME=value lines, as docker run --env-file reads them (no line breaks in values)'
template\t'The --mount-template FILE, rendered with the secrets as its variables'"
complete -c secretrun -n "__fish_secretrun_needs_command" -l mount-template -d 'The template --mount-format template renders: minijinja (Jinja2) syntax, each name a source set is a variable ({{ DB_PASSWORD }}), and `secrets` maps every name to its value' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -l file -d 'Write the raw value of NAME to PATH (mode 0600, removed when the command exits; implies --supervise) and set NAME_FILE=PATH instead of NAME (repeatable). `memfd`: an in-memory file, /dev/fd/N to the command, that works in exec mode. A source\'s ?file=PATH|memfd does the same for the one value it sets' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_needs_command" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_needs_command" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_needs_command" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_needs_command" -l exec -d 'Replace secretrun with the command (default unless secretrun is PID 1)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l supervise -d 'Stay as the command\'s parent: forward signals, reap zombies (default as PID 1)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l subreaper -d 'Adopt orphaned descendants and reap them, as PID 1 does (implies --supervise)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l signal-group -d 'Forward signals to the command\'s whole process group, not only to the command, as `tini -g` and dumb-init do (implies --supervise). The command then leads a process group of its own, which takes over the terminal when secretrun had it'
complete -c secretrun -n "__fish_secretrun_needs_command" -l mask-output -d 'Replace secret values (and their base64 and URL-encoded forms) in the command\'s stdout and stderr with [secretrun:NAME] (implies --supervise)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l mount-keep-env -d 'Keep the names written by --mount and --file in the environment as well'
complete -c secretrun -n "__fish_secretrun_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_needs_command" -s V -l version -d 'Print version'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "show" -d 'Show the environment the command would get, with the source of every value'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "get" -d 'Print one resolved value, for scripts'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "export" -d 'Write the resolved secrets as dotenv, JSON, shell, docker or systemd variables'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "scan" -d 'Search files for the resolved secret values, to find leaked credentials'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "check" -d 'Check every source, the required names and the .env files, and report what is wrong'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "doctor" -d 'Check every source, the required names and the .env files, and report what is wrong'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "encrypt" -d 'Encrypt a .env file\'s values in place, as dotenvx does (keys in .env.keys)'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "decrypt" -d 'Decrypt a dotenvx-encrypted .env file\'s values in place'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "set" -d 'Write values read from stdin or a no-echo prompt into a store'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "push" -d 'Write every name the --from sources resolve to into a store'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "copy" -d 'Copy the secrets of one store into another (push between stores)'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "init" -d 'Move a project\'s .env secrets into a store and set the project up to read them'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
dotenv\t''"
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l reveal -d 'Print values in full instead of masked'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l all -d 'Also list names that come from the parent environment unchanged'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s h -l help -d 'Print help'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l format -d 'Output format' -r -f -a "dotenv\t'NAME="..." with backslash escapes, as dotenv parsers read it'
json\t'One JSON object, names to values'
shell\t'export NAME=\'...\' for a POSIX shell'
docker\t'NAME=value for docker run --env-file (no line breaks in values)'
systemd\t'NAME="..." for systemd\'s EnvironmentFile='
example\t'NAME= lines, no values: a .env.example for --require-from'"
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s o -l output -d 'Write to FILE (mode 0600, replaced atomically) instead of stdout' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l force -d 'Replace FILE if it exists'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l reveal -d 'Allow printing secrets to a terminal'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -l all -d 'Also export names that come from the parent environment unchanged'
complete -c secretrun -n "__fish_secretrun_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l min-length -d 'Skip values shorter than BYTES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -l no-ignore -d 'Also search files that .gitignore, .ignore or .git/info/exclude leave out'
complete -c secretrun -n "__fish_secretrun_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l format -d 'Report format' -r -f -a "text\t'One line per finding'
json\t'A JSON list of findings (level, check, source, message)'"
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l format -d 'Report format' -r -f -a "text\t'One line per finding'
json\t'A JSON list of findings (level, check, source, message)'"
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s f -l file -d 'The .env file (repeatable)' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s k -l key -d 'Only these names (repeatable; default: every name)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand encrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s f -l file -d 'The .env file (repeatable)' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s k -l key -d 'Only these names (repeatable; default: every name)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand decrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l to -d 'The store to write to, in the syntax of --source (dotenv:PATH, vault:MOUNT/PATH, aws-sm:NAME, aws-sm:PREFIX/*, aws-ssm:/PATH/, azure-kv:*, doppler:*, gcp-sm:PREFIX*)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l dry-run -d 'Print what would be done per name (create, update, unchanged); write nothing'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -l overwrite -d 'Replace a value the target holds already with a different one'
complete -c secretrun -n "__fish_secretrun_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l from -d 'A source to read, in the syntax of --source (repeatable; a later one wins)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l only -d 'Only these names (repeatable or comma-separated)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l prefix -d 'Only names starting with TEXT' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l to -d 'The store to write to, in the syntax of --source (dotenv:PATH, vault:MOUNT/PATH, aws-sm:NAME, aws-sm:PREFIX/*, aws-ssm:/PATH/, azure-kv:*, doppler:*, gcp-sm:PREFIX*)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l dry-run -d 'Print what would be done per name (create, update, unchanged); write nothing'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -l overwrite -d 'Replace a value the target holds already with a different one'
complete -c secretrun -n "__fish_secretrun_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l from -d 'A source to read, in the syntax of --source (repeatable; a later one wins)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l only -d 'Only these names (repeatable or comma-separated)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l prefix -d 'Only names starting with TEXT' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l to -d 'The store to write to, in the syntax of --source (dotenv:PATH, vault:MOUNT/PATH, aws-sm:NAME, aws-sm:PREFIX/*, aws-ssm:/PATH/, azure-kv:*, doppler:*, gcp-sm:PREFIX*)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l dry-run -d 'Print what would be done per name (create, update, unchanged); write nothing'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -l overwrite -d 'Replace a value the target holds already with a different one'
complete -c secretrun -n "__fish_secretrun_using_subcommand copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l env-keys-file -d 'The private keys of dotenvx-encrypted .env files [default: .env.keys beside each file]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s c -l config -d 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l fallback -d 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l fallback-max-age -d 'Ignore a snapshot older than DURATION [default: no limit]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l require-from -d 'Fail with exit code 125 unless every name FILE lists (a .env.example; its values are ignored) is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l environment -d 'The environment [rules.NAME] tables\' required = [...] lists are checked against [default: the Doppler config\'s environment]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l store -d 'The store to move the secrets into [default: the store secretrun.toml reads]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l from -d 'The .env file to move secrets from' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l only -d 'Only these names (repeatable or comma-separated; default: every name)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l no-references -d 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l no-fallback -d 'Neither read nor write the last-known-good snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l fallback-only -l offline -d 'Never contact a secret manager: serve every remote source from the snapshot'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l overwrite -d 'Replace a value the store holds already with the .env file\'s'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -l yes -d 'Do it without the wizard\'s questions (required without a terminal)'
complete -c secretrun -n "__fish_secretrun_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "show" -d 'Show the environment the command would get, with the source of every value'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "get" -d 'Print one resolved value, for scripts'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "export" -d 'Write the resolved secrets as dotenv, JSON, shell, docker or systemd variables'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "scan" -d 'Search files for the resolved secret values, to find leaked credentials'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "check" -d 'Check every source, the required names and the .env files, and report what is wrong'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "encrypt" -d 'Encrypt a .env file\'s values in place, as dotenvx does (keys in .env.keys)'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "decrypt" -d 'Decrypt a dotenvx-encrypted .env file\'s values in place'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "set" -d 'Write values read from stdin or a no-echo prompt into a store'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "push" -d 'Write every name the --from sources resolve to into a store'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "copy" -d 'Copy the secrets of one store into another (push between stores)'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "init" -d 'Move a project\'s .env secrets into a store and set the project up to read them'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show get export scan check encrypt decrypt set push copy init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
