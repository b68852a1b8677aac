/// A unit's device id: it names the unit in every record and, at the receiver, a directory. So
/// that it is safe as a file name everywhere it goes, and so that `DEVICE_ID.LABEL.pem` at the
/// receiver cannot be read as another device's key: 1–64 characters of A–Z, a–z, 0–9, '_' and
/// '-', not starting with '-' (no '.').
public enum DeviceID {
    public static let rule = "1–64 characters of A–Z, a–z, 0–9, '_' and '-', not starting with '-'"

    public static func isValid(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...64).contains(b.count), b[0] != UInt8(ascii: "-") else { return false }
        return b.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    }
}
