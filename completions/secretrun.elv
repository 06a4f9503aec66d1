
use builtin;
use str;

set edit:completion:arg-completer[secretrun] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'secretrun'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'secretrun'= {
            cand -e 'Read a .env file (repeatable; a later file beats an earlier one)'
            cand --env-file 'Read a .env file (repeatable; a later file beats an earlier one)'
            cand -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)'
            cand --secrets-dir 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)'
            cand -s 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)'
            cand --source 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)'
            cand -c 'Config file [default: ./secretrun.toml if it exists]'
            cand --config 'Config file [default: ./secretrun.toml if it exists]'
            cand --timeout 'Limit for each request to a secret manager [default: 10s]'
            cand --deadline 'Limit for each source, retries included [default: 60s]'
            cand -r 'Fail with exit code 125 unless NAME is set after merging (repeatable)'
            cand --require 'Fail with exit code 125 unless NAME is set after merging (repeatable)'
            cand --preserve-env 'Let the parent environment beat secret sources, for all names or only NAMES'
            cand --allow-name 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)'
            cand --command 'Run STRING with `sh -c` instead of COMMAND'
            cand --kill-after 'Kill the command with SIGKILL when it is still running DURATION after a forwarded TERM, INT, QUIT or HUP (implies --supervise)'
            cand --grace-period 'After the command exits, how long its leftover processes get after SIGTERM before SIGKILL (PID 1 and --subreaper)'
            cand --file-vars 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
            cand --no-config 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
            cand --no-credentials-directory 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
            cand --no-secrets-settings 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)'
            cand --allow-insecure-http 'Allow plain http:// to a secret manager that is not on loopback'
            cand --pristine 'Give the command only the resolved secrets and a minimal set of the parent environment'
            cand --keep-config-vars 'Pass SECRETRUN_* and consumed provider credentials on to the command'
            cand --exec 'Replace secretrun with the command (default unless secretrun is PID 1)'
            cand --supervise 'Stay as the command''s parent: forward signals, reap zombies (default as PID 1)'
            cand --subreaper 'Adopt orphaned descendants and reap them, as PID 1 does (implies --supervise)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show the environment the command would get, with the source of every value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'secretrun;show'= {
            cand --format 'Output format'
            cand -e 'Read a .env file (repeatable; a later file beats an earlier one)'
            cand --env-file 'Read a .env file (repeatable; a later file beats an earlier one)'
            cand -d 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)'
            cand --secrets-dir 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)'
            cand -s 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)'
            cand --source 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)'
            cand -c 'Config file [default: ./secretrun.toml if it exists]'
            cand --config 'Config file [default: ./secretrun.toml if it exists]'
            cand --timeout 'Limit for each request to a secret manager [default: 10s]'
            cand --deadline 'Limit for each source, retries included [default: 60s]'
            cand -r 'Fail with exit code 125 unless NAME is set after merging (repeatable)'
            cand --require 'Fail with exit code 125 unless NAME is set after merging (repeatable)'
            cand --preserve-env 'Let the parent environment beat secret sources, for all names or only NAMES'
            cand --allow-name 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)'
            cand --reveal 'Print values in full instead of masked'
            cand --all 'Also list names that come from the parent environment unchanged'
            cand --file-vars 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set'
            cand --no-config 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG'
            cand --no-credentials-directory 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default'
            cand --no-secrets-settings 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)'
            cand --allow-insecure-http 'Allow plain http:// to a secret manager that is not on loopback'
            cand --pristine 'Give the command only the resolved secrets and a minimal set of the parent environment'
            cand --keep-config-vars 'Pass SECRETRUN_* and consumed provider credentials on to the command'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'secretrun;help'= {
            cand show 'Show the environment the command would get, with the source of every value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'secretrun;help;show'= {
        }
        &'secretrun;help;help'= {
        }
    ]
    $completions[$command]
}
