# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_secretrun_global_optspecs
    string join \n e/env-file= d/secrets-dir= s/source= file-vars c/config= no-config no-credentials-directory no-secrets-settings timeout= deadline= allow-insecure-http r/require= preserve-env= pristine allow-name= keep-config-vars command= exec supervise subreaper kill-after= grace-period= v/verbose q/quiet h/help V/version
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
complete -c secretrun -n "__fish_secretrun_needs_command" -s c -l config -d 'Config file [default: ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_needs_command" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l command -d 'Run STRING with `sh -c` instead of COMMAND' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l kill-after -d 'Kill the command with SIGKILL when it is still running DURATION after a forwarded TERM, INT, QUIT or HUP (implies --supervise)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l grace-period -d 'After the command exits, how long its leftover processes get after SIGTERM before SIGKILL (PID 1 and --subreaper)' -r
complete -c secretrun -n "__fish_secretrun_needs_command" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_needs_command" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_needs_command" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_needs_command" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_needs_command" -l exec -d 'Replace secretrun with the command (default unless secretrun is PID 1)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l supervise -d 'Stay as the command\'s parent: forward signals, reap zombies (default as PID 1)'
complete -c secretrun -n "__fish_secretrun_needs_command" -l subreaper -d 'Adopt orphaned descendants and reap them, as PID 1 does (implies --supervise)'
complete -c secretrun -n "__fish_secretrun_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secretrun -n "__fish_secretrun_needs_command" -s V -l version -d 'Print version'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "show" -d 'Show the environment the command would get, with the source of every value'
complete -c secretrun -n "__fish_secretrun_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l format -d 'Output format' -r -f -a "table\t''
json\t''
dotenv\t''"
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s e -l env-file -d 'Read a .env file (repeatable; a later file beats an earlier one)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s d -l secrets-dir -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s s -l source -d 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s c -l config -d 'Config file [default: ./secretrun.toml if it exists]' -r -F
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l timeout -d 'Limit for each request to a secret manager [default: 10s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l deadline -d 'Limit for each source, retries included [default: 60s]' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s r -l require -d 'Fail with exit code 125 unless NAME is set after merging (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l preserve-env -d 'Let the parent environment beat secret sources, for all names or only NAMES' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l allow-name -d 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)' -r
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l reveal -d 'Print values in full instead of masked'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l all -d 'Also list names that come from the parent environment unchanged'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l file-vars -d 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-config -d 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-credentials-directory -d 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l no-secrets-settings -d 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects\' own syntax)'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l allow-insecure-http -d 'Allow plain http:// to a secret manager that is not on loopback'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l pristine -d 'Give the command only the resolved secrets and a minimal set of the parent environment'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -l keep-config-vars -d 'Pass SECRETRUN_* and consumed provider credentials on to the command'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s q -l quiet -d 'Only errors on stderr'
complete -c secretrun -n "__fish_secretrun_using_subcommand show" -s h -l help -d 'Print help'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Show the environment the command would get, with the source of every value'
complete -c secretrun -n "__fish_secretrun_using_subcommand help; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
