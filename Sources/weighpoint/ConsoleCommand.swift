import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import Glibc
import Logging
import WeighpointConsole
import WeighpointService

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The technician console: run the unit with its console on this terminal, or make a PIN hash.",
        subcommands: [Run.self, HashPIN.self],
        defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run the whole unit with the technician console on standard input and output (bench work).",
            discussion: """
                The unit runs as weighpointd would, from the station configuration (its [console] section \
                names the technicians), but the console is this terminal instead of the serial port. Logs \
                go to standard error. End of input (Ctrl-D at the login prompt, or a closed pipe) stops \
                the unit gracefully. Do not run it on a data directory a running weighpointd uses.
                """)

        @Flag(help: "Console on standard input and output (the only line this command offers).")
        var stdio = false

        @Option(help: "The station configuration.")
        var config = "/etc/weighpoint/station.toml"

        func run() async throws {
            guard stdio else { throw ValidationError("give --stdio: the serial console runs in weighpointd ([console] port)") }
            // Logs on standard error must not mix into the console's output on a terminal.
            UnitRunner.bootstrapLogging(default: isatty(2) == 1 && isatty(1) == 1 ? .warning : .info)
            let log = Logger(label: "weighpoint-console")
            let identity = try SoftwareIdentity.current()
            let rc = try await UnitRunner.runStation(configPath: config, identity: identity, logger: log, consoleOnStandardIO: true)
            if rc != 0 { throw ExitCode(rc) }
        }
    }

    struct HashPIN: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-pin",
            abstract: "Read a technician's PIN (twice, not echoed) and print the [[technician]] entry for the technicians file.",
            discussion: "From a pipe, the PIN is the first line of standard input. The PIN itself is never printed or stored.")

        @Option(help: "The technician's login name (ASCII letters, digits, '.', '_', '-').")
        var name: String

        @Option(help: "Full name shown at login.")
        var fullName: String?

        @Option(help: "PBKDF2 iterations (at least \(PINHash.minimumIterations)).")
        var iterations = PINHash.defaultIterations

        func run() throws {
            guard Technician.isValidName(name) else { throw ValidationError("--name '\(name)': 1-32 ASCII letters, digits, '.', '_' or '-'") }
            guard iterations >= PINHash.minimumIterations else { throw ValidationError("--iterations: at least \(PINHash.minimumIterations)") }
            let pin: String
            if isatty(0) == 1 {
                let first = readHidden("PIN: ")
                let second = readHidden("PIN again: ")
                guard first == second else {
                    printError("weighpoint console hash-pin: the two PINs differ; nothing printed")
                    throw ExitCode(1)
                }
                pin = first
            } else {
                pin = readLine(strippingNewline: true) ?? ""
            }
            guard pin.count >= 6, pin.count <= 64 else {
                printError("weighpoint console hash-pin: a PIN has 6 to 64 characters")
                throw ExitCode(1)
            }
            let hash = PINHash(pin: pin, iterations: iterations)
            print("[[technician]]")
            print("name = \"\(name)\"")
            if let fullName { print("full_name = \"\(fullName)\"") }
            print("pin = \"\(hash)\"")
        }

        /// A line from the terminal with echo off.
        func readHidden(_ prompt: String) -> String {
            FileHandle.standardError.write(Data(prompt.utf8))
            var t = termios()
            tcgetattr(0, &t)
            let saved = t
            t.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &t)
            defer {
                var s = saved
                tcsetattr(0, TCSANOW, &s)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            return readLine(strippingNewline: true) ?? ""
        }
    }
}
