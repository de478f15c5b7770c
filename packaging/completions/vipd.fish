# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vipd_global_optspecs
    string join \n h/help V/version
end

function __fish_vipd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vipd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vipd_using_subcommand
    set -l cmd (__fish_vipd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vipd -n "__fish_vipd_needs_command" -s h -l help -d 'Print help'
complete -c vipd -n "__fish_vipd_needs_command" -s V -l version -d 'Print version'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "run" -d 'Run the agent in the foreground until SIGTERM/SIGINT; logs go to stderr'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "check" -d 'Validate configuration files without running anything'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "plan" -d 'Show what would happen: run the hosts\' files (one per host) through vipd\'s own state machines in virtual time'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "status" -d 'Ask a running agent for the state of its instances'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "reload" -d 'Have a running agent re-read its configuration file and apply the difference'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "import-keepalived" -d 'Convert a keepalived configuration (its VRRP side) into a vipd configuration'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "events" -d 'Follow a running agent\'s events (state changes, priorities, tracks) as they happen'
complete -c vipd -n "__fish_vipd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vipd -n "__fish_vipd_using_subcommand run" -s c -l config -d 'The configuration file' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand run" -l log-level -d 'Log filter: error, warn (or warning), info, debug, trace or off, or tracing directives such as vipd=debug,info; overrides RUST_LOG. Default: info' -r
complete -c vipd -n "__fish_vipd_using_subcommand run" -s h -l help -d 'Print help'
complete -c vipd -n "__fish_vipd_using_subcommand check" -s c -l config -d 'A configuration file; repeat for several hosts' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipd -n "__fish_vipd_using_subcommand plan" -s c -l config -d 'A host\'s configuration file; repeat for each host' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand plan" -l fail -d 'Only this host fails (by name): what every router does, then on its return' -r
complete -c vipd -n "__fish_vipd_using_subcommand plan" -l json -d 'Print the plan as JSON'
complete -c vipd -n "__fish_vipd_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipd -n "__fish_vipd_using_subcommand status" -l socket -d 'The agent\'s control socket (global.control_socket)' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand status" -l json -d 'Print the full report as JSON'
complete -c vipd -n "__fish_vipd_using_subcommand status" -s h -l help -d 'Print help'
complete -c vipd -n "__fish_vipd_using_subcommand reload" -l socket -d 'The agent\'s control socket (global.control_socket)' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand reload" -l json -d 'Print the outcome as JSON'
complete -c vipd -n "__fish_vipd_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipd -n "__fish_vipd_using_subcommand import-keepalived" -s o -l output -d 'Write the vipd configuration here instead of stdout (a new file gets mode 0600: it may hold a password)' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand import-keepalived" -l config-id -d 'The config id `@name` lines are compared with, as keepalived\'s -i. Default: this host\'s name up to its first dot, as keepalived\'s' -r
complete -c vipd -n "__fish_vipd_using_subcommand import-keepalived" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipd -n "__fish_vipd_using_subcommand events" -l socket -d 'The agent\'s control socket (global.control_socket)' -r -F
complete -c vipd -n "__fish_vipd_using_subcommand events" -l json -d 'Print each event as the agent sends it: one JSON object per line'
complete -c vipd -n "__fish_vipd_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "run" -d 'Run the agent in the foreground until SIGTERM/SIGINT; logs go to stderr'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "check" -d 'Validate configuration files without running anything'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "plan" -d 'Show what would happen: run the hosts\' files (one per host) through vipd\'s own state machines in virtual time'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "status" -d 'Ask a running agent for the state of its instances'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "reload" -d 'Have a running agent re-read its configuration file and apply the difference'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "import-keepalived" -d 'Convert a keepalived configuration (its VRRP side) into a vipd configuration'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "events" -d 'Follow a running agent\'s events (state changes, priorities, tracks) as they happen'
complete -c vipd -n "__fish_vipd_using_subcommand help; and not __fish_seen_subcommand_from run check plan status reload import-keepalived events help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
