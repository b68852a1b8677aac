import WeighpointCrypto

/// A technician allowed on the console.
public struct Technician: Sendable, Equatable {
    public var name: String
    public var pin: PINHash
    public var fullName: String?

    public init(name: String, pin: PINHash, fullName: String? = nil) {
        self.name = name
        self.pin = pin
        self.fullName = fullName
    }

    /// Names are ASCII letters, digits, '.', '_' and '-' (they go into the audit trail and logs).
    public static func isValidName(_ s: String) -> Bool {
        (1...32).contains(s.utf8.count) && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }
}
