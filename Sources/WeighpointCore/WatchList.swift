import Synchronization

/// A watch list (blacklist, wanted vehicles): a hit marks the record for the case system but
/// never changes the overload decision.
public struct WatchList: Sendable {
    /// The list's name as records show it, e.g. "wanted".
    public let name: String
    public let index: PlateIndex

    public init(name: String, plates: [String]) {
        self.name = name
        self.index = PlateIndex(plates)
    }

    public init(name: String, index: PlateIndex) {
        self.name = name
        self.index = index
    }

    /// Hits for each of `plates` (normalised here), best first.
    public func hits(for plates: [String]) -> [WatchHit] {
        var out: [WatchHit] = []
        for p in plates {
            let read = Plate.normalize(p)
            for m in index.matches(for: read) { out.append(WatchHit(list: name, plate: m.plate, read: read, kind: m.kind)) }
        }
        return out
    }
}

/// A plate read that matched a watch-list entry.
public struct WatchHit: Hashable, Sendable {
    public let list: String
    /// The list entry.
    public let plate: String
    /// The read (normalised) that matched it.
    public let read: String
    public let kind: PlateMatchKind
}

/// Holds the current index of a list that can change while lookups run: a reload builds a new
/// index off to the side and swaps it in; lookups in flight keep the index they started with.
public final class PlateIndexHolder: Sendable {
    private let current: Mutex<PlateIndex>

    public init(_ index: PlateIndex) { current = Mutex(index) }

    /// The index to look up in now. The lock is held only to copy the reference.
    public var index: PlateIndex { current.withLock { $0 } }

    /// Makes `index` the one later lookups use.
    public func replace(with index: PlateIndex) { current.withLock { $0 = index } }
}
