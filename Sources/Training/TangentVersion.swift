/// The version of the Tangent package, as `tangent --version` prints it.
///
/// It is a constant kept by hand in the source (raised when the package's interface or file formats
/// change), not generated at build time: SwiftPM offers no way to stamp a build with its git commit
/// short of a build-tool plugin.
public enum TangentVersion {
    /// The package version, `MAJOR.MINOR.PATCH`.
    public static let current = "0.1.0"
}
