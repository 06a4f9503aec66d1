
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'secretrun' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'secretrun'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'secretrun' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Run STRING with `sh -c` instead of COMMAND')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'Kill the command with SIGKILL when it is still running DURATION after a forwarded TERM, INT, QUIT or HUP (implies --supervise)')
            [CompletionResult]::new('--grace-period', '--grace-period', [CompletionResultType]::ParameterName, 'After the command exits, how long its leftover processes get after SIGTERM before SIGKILL (PID 1 and --subreaper)')
            [CompletionResult]::new('--mount', '--mount', [CompletionResultType]::ParameterName, 'Write the secrets to PATH (mode 0600, never replacing a file; a relative PATH goes under $XDG_RUNTIME_DIR or /dev/shm) instead of the environment, tell the command the path in $SECRETRUN_MOUNT, and remove it when the command exits (implies --supervise). `memfd`: an in-memory file, /dev/fd/N to the command, that works in exec mode')
            [CompletionResult]::new('--mount-format', '--mount-format', [CompletionResultType]::ParameterName, 'Format of the --mount file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Write the raw value of NAME to PATH (mode 0600, removed when the command exits; implies --supervise) and set NAME_FILE=PATH instead of NAME (repeatable)')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Replace secretrun with the command (default unless secretrun is PID 1)')
            [CompletionResult]::new('--supervise', '--supervise', [CompletionResultType]::ParameterName, 'Stay as the command''s parent: forward signals, reap zombies (default as PID 1)')
            [CompletionResult]::new('--subreaper', '--subreaper', [CompletionResultType]::ParameterName, 'Adopt orphaned descendants and reap them, as PID 1 does (implies --supervise)')
            [CompletionResult]::new('--mask-output', '--mask-output', [CompletionResultType]::ParameterName, 'Replace secret values (and their base64 and URL-encoded forms) in the command''s stdout and stderr with [secretrun:NAME] (implies --supervise)')
            [CompletionResult]::new('--mount-keep-env', '--mount-keep-env', [CompletionResultType]::ParameterName, 'Keep the names written by --mount and --file in the environment as well')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the environment the command would get, with the source of every value')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one resolved value, for scripts')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the resolved secrets as dotenv, JSON, shell, docker or systemd variables')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Search files for the resolved secret values, to find leaked credentials')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check every source, the required names and the .env files, and report what is wrong')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check every source, the required names and the .env files, and report what is wrong')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'secretrun;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print values in full instead of masked')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also list names that come from the parent environment unchanged')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'secretrun;get' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'secretrun;export' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE (mode 0600, replaced atomically) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE (mode 0600, replaced atomically) instead of stdout')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE if it exists')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Allow printing secrets to a terminal')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also export names that come from the parent environment unchanged')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'secretrun;scan' {
            [CompletionResult]::new('--min-length', '--min-length', [CompletionResultType]::ParameterName, 'Skip values shorter than BYTES')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--no-ignore', '--no-ignore', [CompletionResultType]::ParameterName, 'Also search files that .gitignore, .ignore or .git/info/exclude leave out')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'secretrun;check' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'secretrun;doctor' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read a .env file (repeatable; a later file beats an earlier one)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('--secrets-dir', '--secrets-dir', [CompletionResultType]::ParameterName, 'Read one variable per file in DIR (Docker/Kubernetes secrets, systemd credentials)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Add a source by spec, e.g. dotenv:.env, dir:/run/secrets?optional (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $SECRETRUN_CONFIG, else ./secretrun.toml if it exists]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Limit for each request to a secret manager [default: 10s]')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Limit for each source, retries included [default: 60s]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'The encrypted last-known-good snapshot [default: one file per plan under $XDG_CACHE_HOME/secretrun]')
            [CompletionResult]::new('--fallback-max-age', '--fallback-max-age', [CompletionResultType]::ParameterName, 'Ignore a snapshot older than DURATION [default: no limit]')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Fail with exit code 125 unless NAME is set after merging (repeatable)')
            [CompletionResult]::new('--preserve-env', '--preserve-env', [CompletionResultType]::ParameterName, 'Let the parent environment beat secret sources, for all names or only NAMES')
            [CompletionResult]::new('--allow-name', '--allow-name', [CompletionResultType]::ParameterName, 'Allow secret sources to set a protected name such as NODE_OPTIONS (repeatable)')
            [CompletionResult]::new('--file-vars', '--file-vars', [CompletionResultType]::ParameterName, 'Turn NAME_FILE=/path variables into NAME=<file content> when NAME is not set')
            [CompletionResult]::new('--no-config', '--no-config', [CompletionResultType]::ParameterName, 'Ignore ./secretrun.toml and $SECRETRUN_CONFIG')
            [CompletionResult]::new('--no-credentials-directory', '--no-credentials-directory', [CompletionResultType]::ParameterName, 'Do not read $CREDENTIALS_DIRECTORY (systemd credentials) by default')
            [CompletionResult]::new('--no-references', '--no-references', [CompletionResultType]::ParameterName, 'Leave values such as vault:PATH#KEY or file:/PATH in the environment as they are')
            [CompletionResult]::new('--no-secrets-settings', '--no-secrets-settings', [CompletionResultType]::ParameterName, 'Ignore SECRETS_MANAGER / SECRETS_BACKEND settings (the seed projects'' own syntax)')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a secret manager that is not on loopback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'Neither read nor write the last-known-good snapshot')
            [CompletionResult]::new('--fallback-only', '--fallback-only', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never contact a secret manager: serve every remote source from the snapshot')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Give the command only the resolved secrets and a minimal set of the parent environment')
            [CompletionResult]::new('--keep-config-vars', '--keep-config-vars', [CompletionResultType]::ParameterName, 'Pass SECRETRUN_* and consumed provider credentials on to the command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); or set SECRETRUN_LOG')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'secretrun;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the environment the command would get, with the source of every value')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one resolved value, for scripts')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the resolved secrets as dotenv, JSON, shell, docker or systemd variables')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Search files for the resolved secret values, to find leaked credentials')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check every source, the required names and the .env files, and report what is wrong')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'secretrun;help;show' {
            break
        }
        'secretrun;help;get' {
            break
        }
        'secretrun;help;export' {
            break
        }
        'secretrun;help;scan' {
            break
        }
        'secretrun;help;check' {
            break
        }
        'secretrun;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
