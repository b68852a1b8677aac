import Foundation
import WeighpointCore
import WeighpointSystem

/// A plate list kept in a file (permits, a watch list): one plate per line, `#` comments.
public enum PlateListFile {
    /// A line that is not a GA 36 plate, reported and skipped.
    public struct Problem: Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message); line skipped" }
    }

    /// Reads the plates of `path`, normalised; bad lines come back as problems, not failures
    /// (a list edited while the unit runs is taken without them; at start they are
    /// configuration errors, see `StationConfig`).
    public static func read(_ path: String) throws(PlateListFileError) -> (plates: [String], problems: [Problem]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw PlateListFileError(file: path) }
        return parse(Array(data), path: path)
    }

    /// The plates of a list's bytes, and its bad lines.
    public static func parse(_ data: [UInt8], path: String) -> (plates: [String], problems: [Problem]) {
        var plates: [String] = []
        var problems: [Problem] = []
        for (i, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                plates.append(try Plate(parsing: line).text)
            } catch {
                problems.append(Problem(file: path, line: i + 1, message: error.description))
            }
        }
        return (plates, problems)
    }
}

public struct PlateListFileError: Error, CustomStringConvertible {
    public let file: String
    public var description: String { "cannot read plate list \(file)" }
}

/// A plate list file whose index follows the file: when its modification time or size changes,
/// a new index is built off the caller's thread and swapped in; lookups go on against the old
/// one meanwhile and never wait for a rebuild.
public final class WatchedPlateList: @unchecked Sendable {
    public let path: String
    public let holder: PlateIndexHolder
    private let lock = NSLock()
    private var stamp: (Date?, Int?)
    private var rebuilding = false
    private let onReload: @Sendable (Int, [PlateListFile.Problem]) -> Void
    /// Rebuilds when woken, one at a time; started at the first change, stopped by `stop`.
    private var worker: WorkerThread!
    private var stopped = false

    /// Builds the first index now. `onReload` hears the entry count and bad lines of each load.
    public init(path: String, onReload: @escaping @Sendable (Int, [PlateListFile.Problem]) -> Void = { _, _ in }) throws(PlateListFileError) {
        self.path = path
        self.onReload = onReload
        stamp = WatchedPlateList.stamp(of: path)
        let (plates, problems) = try PlateListFile.read(path)
        holder = PlateIndexHolder(PlateIndex(plates))
        onReload(plates.count, problems)
        worker = WorkerThread(name: "plate-list \((path as NSString).lastPathComponent)") { [weak self] w in
            while w.isRunning {
                guard let self else { return }
                if lock.withLock({ rebuilding }) {
                    if let (plates, problems) = try? PlateListFile.read(path) {
                        holder.replace(with: PlateIndex(plates))
                        onReload(plates.count, problems)
                    }
                    lock.withLock { rebuilding = false }
                }
                w.pause(milliseconds: 60_000)
            }
        }
    }

    /// Stops the rebuild thread, waiting for a rebuild under way (at shutdown); later changes
    /// are not followed.
    public func stop() {
        lock.withLock { stopped = true }
        worker.stop()
    }

    /// The index to look up in now.
    public var index: PlateIndex { holder.index }

    /// Starts a rebuild when the file changed since the last load; returns whether it did.
    /// The rebuild runs on the list's worker thread; a file that cannot be read keeps the old index.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let now = WatchedPlateList.stamp(of: path)
        let start = lock.withLock { () -> Bool in
            guard !stopped, !rebuilding, now.0 != stamp.0 || now.1 != stamp.1 else { return false }
            rebuilding = true
            stamp = now
            return true
        }
        guard start else { return false }
        worker.start()  // does nothing while it runs
        worker.wake()
        return true
    }

    /// True while a rebuild is running.
    public var isRebuilding: Bool { lock.withLock { rebuilding } }

    static func stamp(of path: String) -> (Date?, Int?) {
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        return (a?[.modificationDate] as? Date, (a?[.size] as? NSNumber)?.intValue)
    }
}
