# fish completion for berthctl(1): verbs, options, and unit names asked of the running berthd
# with `berthctl --plain list-units` (nothing is offered when berthd is not running).

# Unit names from berthd, reached with the --user/--runtime-dir of the command line.
# $argv[1]: "socket" for socket units only.
function __berthctl_units
    command -q berthctl; or return
    set -l conn
    set -l words (commandline -opc)
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case --user
                set -a conn --user
            case --runtime-dir
                set -l j (math $i + 1)
                test $j -le (count $words); and set -a conn --runtime-dir $words[$j]
            case '--runtime-dir=*'
                set -a conn $words[$i]
            case --
                break
        end
        set i (math $i + 1)
    end
    set -l units (command berthctl $conn --plain --no-color list-units 2>/dev/null | string replace -r '\s.*' '')
    if test "$argv[1]" = socket
        string match -- '*.socket' $units
    else
        printf '%s\n' $units
    end
end

# True when the command line has no verb yet.
function __berthctl_needs_command
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --runtime-dir -n --lines --binary
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

complete -c berthctl -f

complete -c berthctl -n __berthctl_needs_command -a status -d 'State, pid, sockets and last log lines'
complete -c berthctl -n __berthctl_needs_command -a list-units -d 'Every unit and its state'
complete -c berthctl -n __berthctl_needs_command -a list-sockets -d 'Every socket, with its unit'
complete -c berthctl -n __berthctl_needs_command -a is-active -d 'Whether units are active'
complete -c berthctl -n __berthctl_needs_command -a start -d 'Start a service'
complete -c berthctl -n __berthctl_needs_command -a stop -d 'Stop a service; its sockets stay bound'
complete -c berthctl -n __berthctl_needs_command -a restart -d 'Restart a service; its sockets stay bound'
complete -c berthctl -n __berthctl_needs_command -a reload -d 'ExecReload=, or ReloadSignal='
complete -c berthctl -n __berthctl_needs_command -a cat -d 'The unit file and its drop-ins'
complete -c berthctl -n __berthctl_needs_command -a logs -d 'The last lines a service printed'
complete -c berthctl -n __berthctl_needs_command -a fds -d "Run a command with a socket's fds"
complete -c berthctl -n __berthctl_needs_command -a daemon-reload -d 'Re-read every unit file'
complete -c berthctl -n __berthctl_needs_command -a daemon-reexec -d 'Execute berthd again, keeping every socket'
complete -c berthctl -n __berthctl_needs_command -a check -d 'Validate unit files offline'

complete -c berthctl -n "__fish_seen_subcommand_from status is-active start stop restart reload cat logs" \
    -a '(__berthctl_units)'
complete -c berthctl -n "__fish_seen_subcommand_from fds; and not __fish_seen_argument -- --" \
    -a '(__berthctl_units socket)'
complete -c berthctl -n "__fish_seen_subcommand_from check" -F -a '(__fish_complete_directories)'

complete -c berthctl -l runtime-dir -r -F -d "berthd's runtime directory"
complete -c berthctl -l user -d "Talk to the user's berthd"
complete -c berthctl -l json -d 'JSON output'
complete -c berthctl -l no-color -d 'No colour'
complete -c berthctl -l no-colour -d 'No colour'
complete -c berthctl -l plain -d 'Tables without header and footer'
complete -c berthctl -l no-legend -d 'Tables without header and footer'
complete -c berthctl -s n -l lines -x -d 'Log lines to show'
complete -c berthctl -s f -l follow -d 'logs: keep printing new lines'
complete -c berthctl -l binary -r -F -d 'daemon-reexec: the berthd to execute'
complete -c berthctl -l wait-ready -d 'status, is-active: wait for berthd and the units'
complete -c berthctl -s q -l quiet -d 'is-active: print nothing'
complete -c berthctl -s h -l help -d 'Show the help'
complete -c berthctl -l version -d 'Show the version'
