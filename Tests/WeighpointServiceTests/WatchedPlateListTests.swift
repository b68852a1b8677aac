import Foundation
import Testing
import WeighpointCore
import WeighpointService

final class Reloads: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, [String])] = []
    func add(_ n: Int, _ p: [PlateListFile.Problem]) { lock.withLock { items.append((n, p.map(\.description))) } }
    var all: [(Int, [String])] { lock.withLock { items } }
}

@Suite struct WatchedPlateListTests {
    @Test func followsTheFileWithoutBlockingLookups() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-watch-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# wanted\n苏A12345\nbroken\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reloads = Reloads()
        let list = try WatchedPlateList(path: path) { reloads.add($0, $1) }
        #expect(list.index.matches(for: "苏A12345").map(\.kind) == [.exact])
        #expect(reloads.all.first?.0 == 1)
        #expect(reloads.all.first?.1 == ["\(path):3: plate 'broken': character 1 is 'B', expected a province character or 使; line skipped"])
        #expect(!list.reloadIfChanged(), "unchanged file, no rebuild")

        // A large new version: lookups keep answering from the old index during the rebuild.
        let many = (0..<100_000).map { String(format: "浙C%05d", $0) } + ["京N00001"]
        try many.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(list.reloadIfChanged())
        var answeredDuringRebuild = 0
        while list.isRebuilding {
            let m = list.index.matches(for: "苏A12345")
            #expect(m.count == 1 || m.isEmpty, "the old index or the new one, never a half-built one")
            answeredDuringRebuild += 1
        }
        #expect(answeredDuringRebuild > 0)
        #expect(list.index.matches(for: "京N00001").map(\.kind) == [.exact])
        #expect(list.index.matches(for: "苏A12345").isEmpty)
        #expect(reloads.all.last?.0 == many.count)

        // The next change right after a rebuild is taken too (one worker thread, woken per change),
        // and stopping waits for it.
        try "京N00002\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(list.reloadIfChanged())
        while list.isRebuilding { usleep(1000) }
        #expect(list.index.matches(for: "京N00002").map(\.kind) == [.exact] && reloads.all.last?.0 == 1)
        list.stop()
    }

    @Test func missingFileIsAnErrorNamingIt() {
        #expect(throws: PlateListFileError.self) { try WatchedPlateList(path: "/nonexistent/wanted.txt") }
    }
}
