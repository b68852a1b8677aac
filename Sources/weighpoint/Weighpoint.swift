import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointEvidence
import WeighpointScenario
import WeighpointService

@main
struct Weighpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighpoint",
        abstract: "Tools shipped on the Weighpoint overload-enforcement unit.",
        discussion: """
            For the station's technicians and auditors: software identity, records and their \
            verification, keys, the decision core on a scenario, plate lists and reading, cameras, \
            the WIM controller, delivery, and the technician console. Simulators, the demo and \
            benchmarks are in weighpoint-dev, which is never installed on a unit.
            """,
        subcommands: [Version.self, Replay.self, Plates.self, Wim.self, Keygen.self, CredentialCommand.self, Records.self, Verify.self, Deliver.self, CameraCommand.self, ConsoleCommand.self])
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the software identity: version, SHA-256 of this executable, linked libraries.")

    func run() throws {
        do {
            print(try SoftwareIdentity.current().lines.joined(separator: "\n"))
        } catch {
            printError("weighpoint version: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the decision core over a scenario (JSON Lines) and print one decision per weighing.",
        discussion: """
            FILE is a scenario in the replay format (Docs/decision-core.md), or - for standard input. Decisions go to \
            standard output as JSON Lines, in weighing order. A malformed line stops the replay with \
            exit status 2 and names the line.
            """)

    @Argument(help: "Scenario file, or - for standard input.")
    var file: String

    @Flag(help: "Print a count of decisions to standard error at the end.")
    var summary = false

    func run() throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: file) else {
                printError("weighpoint replay: cannot read \(file)")
                throw ExitCode(1)
            }
            data = d
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("weighpoint replay: \(file) is not UTF-8 text")
            throw ExitCode(2)
        }
        let scenario: Scenario
        do {
            scenario = try Scenario.parse(text)
        } catch {
            printError("weighpoint replay: \(file == "-" ? "<stdin>" : file): \(error)")
            throw ExitCode(2)
        }
        let decisions = scenario.replay()
        var out = ""
        for d in decisions { out += d.jsonLine + "\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
        if summary {
            var counts: [String: Int] = [:]
            for d in decisions { counts[d.assessment.decision.rawValue, default: 0] += 1 }
            let parts = counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            printError("weighings=\(decisions.count) " + parts.joined(separator: " "))
        }
    }
}
