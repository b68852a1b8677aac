/// Colour of a licence plate, kept as one internal enum and mapped explicitly to each published
/// code table at the interface that needs it (DESIGN.md: code tables differ between systems).
public enum PlateColor: String, CaseIterable, Sendable, Hashable {
    case blue
    case yellow
    case black
    case white
    /// Gradient green: new-energy small vehicles (GA 36-2018).
    case green
    /// Yellow-green: new-energy large vehicles.
    case yellowGreen = "yellow_green"
    case blueWhite = "blue_white"
    case red
    case unknown

    /// The code tables in use by interfaces the unit talks to.
    public enum CodeTable: Sendable {
        /// 1 blue, 2 yellow, 3 black, 4 white, 5 green, 9 other.
        case oneBased
        /// 0 blue, 1 yellow, 2 black, 3 white, 4 gradient green, 5 yellow-green, 6 blue-white,
        /// 9 unknown, 11 green, 12 red.
        case zeroBased
    }

    /// The code of this colour in `table`.
    public func code(in table: CodeTable) -> Int {
        switch table {
        case .oneBased:
            switch self {
            case .blue: 1
            case .yellow: 2
            case .black: 3
            case .white: 4
            // The table has a single green, used for new-energy plates of both sizes.
            case .green, .yellowGreen: 5
            case .blueWhite, .red, .unknown: 9
            }
        case .zeroBased:
            switch self {
            case .blue: 0
            case .yellow: 1
            case .black: 2
            case .white: 3
            case .green: 4
            case .yellowGreen: 5
            case .blueWhite: 6
            case .unknown: 9
            case .red: 12
            }
        }
    }

    /// The colour a code of `table` stands for, or nil for a code the table does not define.
    /// The zero-based table's 11 (plain green) reads as `.green`; GA 36-2018 plates in green are
    /// all gradient green, so encoding `.green` gives 4.
    public init?(code: Int, in table: CodeTable) {
        switch (table, code) {
        case (.oneBased, 1): self = .blue
        case (.oneBased, 2): self = .yellow
        case (.oneBased, 3): self = .black
        case (.oneBased, 4): self = .white
        case (.oneBased, 5): self = .green
        case (.oneBased, 9): self = .unknown
        case (.zeroBased, 0): self = .blue
        case (.zeroBased, 1): self = .yellow
        case (.zeroBased, 2): self = .black
        case (.zeroBased, 3): self = .white
        case (.zeroBased, 4), (.zeroBased, 11): self = .green
        case (.zeroBased, 5): self = .yellowGreen
        case (.zeroBased, 6): self = .blueWhite
        case (.zeroBased, 9): self = .unknown
        case (.zeroBased, 12): self = .red
        default: return nil
        }
    }
}
