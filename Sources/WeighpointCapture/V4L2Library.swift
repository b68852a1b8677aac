import CV4L2

/// The libv4l2 this binary runs with.
public enum V4L2Library {
    /// libv4l2 has no version call; the loaded file (see `LinkedLibrary`) identifies it.
    public static var version: String? { nil }

    /// A symbol of the library, so the linker keeps it and its file shows in the process map.
    public static let anchor: @convention(c) (Int32) -> Int32 = v4l2_close
}
