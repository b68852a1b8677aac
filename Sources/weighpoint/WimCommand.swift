import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointModbus

struct Wim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a weigh-in-motion controller over Modbus.",
        subcommands: [Read.self])

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read vehicle records from a WIM controller and print them as JSON lines.",
            discussion: """
                Acknowledges each record to the controller after printing it, as the unit does. \
                Link events (connects, retries, gaps) go to standard error.
                """)

        @Option(help: "Register map: a name in Hardware/wim (generic-wim-v1, acme-x2) or a .toml path.")
        var profile: String

        @OptionGroup var link: LinkOptions

        @Option(help: "Unit id (default: the profile's).")
        var unitId: Int?

        @Option(help: "Stop after this many records (default: run until interrupted).")
        var count: Int?

        @Option(help: "Response timeout per request, ms.")
        var timeoutMs = 500

        @Option(help: "Also write the raw record blocks to this trace file (for regression tests).")
        var trace: String?

        @Option(help: "Trace header: the site.")
        var site = "unknown"

        @Option(help: "Trace header: the controller's firmware.")
        var firmware = "unknown"

        func run() throws {
            let p = try loadProfile(profile)
            var traceHandle: FileHandle?
            if let trace {
                guard FileManager.default.createFile(atPath: trace, contents: nil), let h = FileHandle(forWritingAtPath: trace) else {
                    printError("weighpoint wim read: cannot create \(trace)")
                    throw ExitCode(1)
                }
                let now = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
                let header = WIMTrace(header: [
                    ("device", try link.transport().description), ("firmware", firmware), ("site", site),
                    ("date", now.description), ("profile", p.name), ("captured-by", "weighpoint wim read"),
                ])
                h.write(Data(header.text.utf8))
                traceHandle = h
            }
            var settings = WIMLinkSettings(transport: try link.transport(), profile: p, unitId: unitId)
            settings.responseTimeoutMs = timeoutMs
            let traceOut = traceHandle
            let done = DispatchSemaphore(value: 0)
            let printed = Counter()
            let limit = count
            let driver = WIMDriver(settings) { event in
                switch event {
                case .weighing(let r):
                    guard limit.map({ printed.value < $0 }) ?? true else { return }
                    FileHandle.standardOutput.write(Data((r.jsonLine(p) + "\n").utf8))
                    traceOut?.write(Data((WIMTrace.line(r.rawBlock) + "\n").utf8))
                    if printed.increment() == limit { done.signal() }
                case .gap(let missing): printError("gap: controller records \(missing.lowerBound)–\(missing.upperBound) were never seen")
                case .duplicate(let seq): printError("duplicate: record \(seq) shown again; acknowledged again")
                case .sequenceWentBack(let from, let to): printError("sequence went back from \(from) to \(to): a restart of the controller's numbering if the next record follows on from \(to)")
                case .sequenceReset(let from, let to): printError("sequence started again: from \(from) to \(to), and the next record follows on; the controller restarted or its counter wrapped")
                case .sequenceOutOfOrder(let seq, let after, let next): printError("record \(seq) out of order: after \(after), and the next was \(next); its number is wrong, and it is not to be trusted")
                case .connected(let endpoint): printError("connected: \(endpoint) profile=\(p.name)")
                case .disconnected(let e): printError("link down: \(e); reconnecting")
                case .retry(let e): printError("retry: \(e)")
                }
            }
            driver.start()
            done.wait()
            driver.stop()
        }
    }
}
