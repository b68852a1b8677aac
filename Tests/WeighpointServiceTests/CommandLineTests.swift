import Foundation
import Testing
import WeighpointEvidence
import WeighpointService
import WeighpointTesting
import WeighpointJSON

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a program to completion (see `runProcess`).
func run(_ executable: String, _ arguments: [String], input: String = "") throws -> ProcessResult {
    try runProcess(executable, arguments, input: input)
}

/// The built `weighpoint` command (make test builds it before running the tests).
func weighpoint() throws -> String { try builtTool("weighpoint") }

/// The built `weighpoint-dev` command: load generators, simulators, benchmarks.
func weighpointDev() throws -> String { try builtTool("weighpoint-dev") }

func builtTool(_ name: String) throws -> String {
    let path = packageRoot.appendingPathComponent(".build/debug/" + name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw CLIMissing(path: path)
    }
    return path
}

struct CLIMissing: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is not built: run `swift build` (make test does) before the tests" }
}

@Suite struct CommandLineTests {
    @Test func versionHashEqualsSha256sumOfTheExecutable() throws {
        let exe = try weighpoint()
        let r = try run(exe, ["version"])
        #expect(r.status == 0)
        let hashLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("sha256 ") }
        let independent = try run("/usr/bin/sha256sum", [URL(fileURLWithPath: exe).resolvingSymlinksInPath().path])
        #expect(hashLine.map { String($0.dropFirst(7)) } == String(independent.stdout.prefix(64)))
        #expect(r.stdout.contains("weighpoint \(SoftwareIdentity.version)"))
        for lib in ["libmodbus 3.", "libv4l2", "libserialport 0.", "libcrypto OpenSSL 3.", "libopencv_dnn OpenCV 4."] {
            #expect(r.stdout.contains(lib), "\(lib) missing from: \(r.stdout)")
        }
    }

    @Test func replayReadsAFileOrStandardInput() throws {
        let exe = try weighpoint()
        let file = packageRoot.appendingPathComponent("Scenarios/demo-station.jsonl").path
        let fromFile = try run(exe, ["replay", file])
        let fromStdin = try run(exe, ["replay", "-"], input: try String(contentsOfFile: file, encoding: .utf8))
        #expect(fromFile.status == 0 && fromStdin.status == 0)
        #expect(fromFile.stdout == fromStdin.stdout)
        #expect(fromFile.stdout.split(separator: "\n").count == 12)
    }

    @Test func malformedLineExitsWithStatus2AndNamesTheLine() throws {
        let exe = try weighpoint()
        let input = """
            {"type":"station","lanes":1,"cameras":[],"match_window_ms":1500}
            # comment
            {"type":"weighing","seq":1,"lane":1,"time":"2026-11-20T08:00:00.000Z","speed_kmh":54,"body":"rigid","drive_axles":1,"axles":[{"kg":7000,"tyres":"single"},{"kg":10500,"tyres":"dual"}],"groups":[1,1],"flags":[]}
            {"type":"weighing","seq":2,"lane":1,"time":"yesterday"}
            {"type":"weighing","seq":3,"lane":1,"time":"2026-11-20T08:00:09.000Z","speed_kmh":54,"body":"rigid","drive_axles":1,"axles":[{"kg":7000,"tyres":"single"},{"kg":10500,"tyres":"dual"}],"groups":[1,1],"flags":[]}
            """
        let r = try run(exe, ["replay", "-"], input: input)
        #expect(r.status == 2)
        #expect(r.stderr.contains("line 4"), "\(r.stderr)")
        #expect(!r.stdout.contains(#""seq":3"#), "nothing printed for later lines")
    }

    @Test func missingFileIsAnErrorNamingIt() throws {
        let r = try run(try weighpoint(), ["replay", "/nonexistent/day.jsonl"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/day.jsonl"))
    }
}

@Suite struct SoftwareIdentityTests {
    @Test func identityOfThisProcessHashesItsExecutable() throws {
        let id = try SoftwareIdentity.current()
        #expect(id.executableSHA256.count == 64)
        let independent = try run("/usr/bin/sha256sum", ["/proc/self/exe"])  // sha256sum's own exe, not ours
        #expect(independent.stdout.prefix(64) != Substring(id.executableSHA256))
        let ours = try run("/usr/bin/sha256sum", [id.executablePath])
        #expect(String(ours.stdout.prefix(64)) == id.executableSHA256)
        #expect(id.libraries.map(\.name) == ["libmodbus", "libv4l2", "libserialport", "libcrypto", "libopencv_dnn"])
        #expect(id.libraries.allSatisfy { $0.file != nil }, "\(id.libraries)")
    }
}

@Suite struct PlatesMatchCommandTests {
    func temp(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weighpoint-plates-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func writesOneJSONLinePerQuerySortedByKindThenPlate() throws {
        let list = try temp("list.txt", "# wanted\n苏A12346\n苏A1234S\nnot a plate\n苏a12345\n\n苏A1234\n苏B99999\n")
        let queries = try temp("queries.txt", "苏A·12345\n京N00000\n苏A12\n粤BD12345\n")
        let r = try run(try weighpoint(), ["plates", "match", "--list", list, "--queries", queries])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [
            #"{"query":"苏A12345","matches":[{"plate":"苏A12345","kind":"exact"},{"plate":"苏A1234S","kind":"lookalike"},{"plate":"苏A12346","kind":"edit"}]}"#,
            #"{"query":"京N00000","matches":[]}"#,
            #"{"query":"粤BD12345","matches":[]}"#,
        ])
        #expect(r.stderr.contains("\(list):4: plate 'not a plate'"), "\(r.stderr)")
        #expect(r.stderr.contains("\(queries):3:"), "the short query is reported and skipped: \(r.stderr)")
        #expect(r.stderr.contains("\(list):7: plate '苏A1234' has 6 characters"), "\(r.stderr)")
        #expect(r.stderr.contains("list=4 build_ms="), "duplicates after normalisation collapse: \(r.stderr)")
    }

    @Test func missingListFileIsAnError() throws {
        let queries = try temp("q2.txt", "苏A12345\n")
        let r = try run(try weighpoint(), ["plates", "match", "--list", "/nonexistent/list.txt", "--queries", queries])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/list.txt"))
    }
}

@Suite struct EvidenceCommandTests {
    @Test func keygenLoadVerifyExportAndTamper() throws {
        let exe = try weighpoint()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wp-cli-evidence-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keygen = try run(exe, ["keygen", "--alg", "p256", "--out", dir + "/key"])
        #expect(keygen.status == 0 && keygen.stdout.contains("alg=ECDSA-P256-SHA256"))
        #expect(try run(exe, ["keygen", "--alg", "p256", "--out", dir + "/key"]).status == 1, "never overwrites a key")
        #expect(try run(try weighpointDev(), ["store", "load", "--data", dir + "/data", "--key", dir + "/key/key.pem", "--count", "4"]).stdout.split(separator: "\n").count == 4)
        let ok = try run(exe, ["verify", dir + "/data"])
        #expect(ok.status == 0 && ok.stdout.hasPrefix("OK: ") && ok.stdout.contains("4 records"), "\(ok.stdout)")
        #expect(try run(exe, ["records", "export", "--data", dir + "/data", "--out", dir + "/exp", "2"]).status == 0)
        #expect(try run(exe, ["verify", dir + "/exp"]).status == 0)
        let list = try run(exe, ["records", "list", "--data", dir + "/data"])
        #expect(list.stdout.split(separator: "\n").count == 4 && list.stdout.contains("not delivered"))
        // Delete record 3 with the sqlite3 command line: verify names what is wrong and fails.
        _ = try run("/usr/bin/sqlite3", [dir + "/data/evidence.sqlite", "DELETE FROM records WHERE seq = 3"])
        let bad = try run(exe, ["verify", dir + "/data"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("FAIL: records #4: sequence jumps from 2 to 4"), "\(bad.stdout)")
        #expect(try run(exe, ["verify", "/nonexistent"]).status == 1)
    }

    @Test func platesRecognizePrintsOneJSONLinePerImage() throws {
        let exe = try weighpoint()
        let dir = packageRoot.appendingPathComponent("Images/plates").path
        let r = try run(exe, ["plates", "recognize", dir + "/plate-001.jpg", dir + "/plate-009.jpg", "--threshold", "0.6"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { parseJSON(Array($0.utf8)) }
        #expect(lines.count == 2)
        let first = try #require(lines.first ?? nil)
        #expect(first["file"]?.stringValue == dir + "/plate-001.jpg" && first["width"]?.intValue == 800 && first["height"]?.intValue == 450)
        guard case .array(let plates)? = first["plates"], let p = plates.first else {
            Issue.record("no plate found: \(r.stdout)")
            return
        }
        #expect(p["text"]?.stringValue == "青L85626" && p["kind"]?.stringValue == "standard" && p["color"]?.stringValue == "yellow")
        #expect(p["accepted"] == .bool(true))
        guard case .array(let box)? = p["box"], case .array(let chars)? = p["characters"] else {
            Issue.record("no box or characters: \(p)")
            return
        }
        #expect(box.count == 4 && chars.count == 7)
        #expect(first["recognize_ms"] != nil && p["best_path"]?["text"]?.stringValue != nil && p["rows"]?.intValue == 1)
        // The two-row trailer plate of the committed images is read as one.
        let trailer = try run(exe, ["plates", "recognize", dir + "/plate-005.jpg"])
        let t = parseJSON(Array(trailer.stdout.utf8))
        guard case .array(let tp)? = t?["plates"], let two = tp.first else {
            Issue.record("no plate found: \(trailer.stdout)")
            return
        }
        #expect(two["text"]?.stringValue == "赣P609H挂" && two["kind"]?.stringValue == "trailer" && two["rows"]?.intValue == 2, "\(two)")
        // A file that is not a JPEG is named, the rest still read, and the status says so.
        let bad = try run(exe, ["plates", "recognize", packageRoot.appendingPathComponent("README.md").path, dir + "/plate-001.jpg"])
        #expect(bad.status == 1 && bad.stderr.contains("README.md") && bad.stdout.split(separator: "\n").count == 1)
    }
}
