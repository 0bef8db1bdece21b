namespace ConvKit.Vision.Pretrained;

/// <summary>
/// A package of pretrained weights served by the npm registry, pinned by name, version and the registry's SHA-512
/// integrity value (<c>dist.integrity</c> of <c>https://registry.npmjs.org/NAME/VERSION</c>, "sha512-" + Base64), so
/// that the bytes the <see cref="PretrainedStore"/> unpacks are exactly the bytes the registry published.
/// </summary>
/// <param name="Name">the npm name, scoped or not: <c>@vladmandic/face-api</c></param>
/// <param name="Version">an exact version: <c>1.7.15</c></param>
/// <param name="Integrity">the registry's Subresource-Integrity value of the tarball: <c>sha512-…</c></param>
public sealed record PretrainedPackage(string Name, string Version, string Integrity)
{
    /// <summary>
    /// npm <c>@vladmandic/face-api</c> 1.7.15 (MIT): the tiny face detector, the 128-d face encoder (dlib's ResNet), the
    /// other face-api.js networks (<c>model/</c>) and six sample group photos (<c>demo/sample1.jpg</c> … <c>sample6.jpg</c>).
    /// </summary>
    public static PretrainedPackage FaceApi { get; } = new("@vladmandic/face-api", "1.7.15",
        "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==");

    /// <summary>The tarball's file name as the registry serves it: the name without its scope, then the version (<c>face-api-1.7.15.tgz</c>).</summary>
    public string TarballName => $"{Name[(Name.LastIndexOf('/') + 1)..]}-{Version}.tgz";

    /// <summary>The registry's address of the tarball: <c>https://registry.npmjs.org/NAME/-/TARBALL</c>.</summary>
    public Uri TarballUri => new($"https://registry.npmjs.org/{Name}/-/{TarballName}");

    /// <summary>The SHA-512 digest that <see cref="Integrity"/> holds; throws when it is not "sha512-" + 64 bytes in Base64.</summary>
    public byte[] Sha512()
    {
        const string prefix = "sha512-";
        byte[]? digest = null;
        if (Integrity.StartsWith(prefix, StringComparison.Ordinal))
        {
            try { digest = Convert.FromBase64String(Integrity[prefix.Length..]); }
            catch (FormatException) { }
        }
        return digest is { Length: 64 } ? digest
            : throw new ArgumentException($"pretrained package {this}: the integrity value '{Integrity}' is not 'sha512-' followed by a Base64 SHA-512 digest.");
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}@{Version}";
}
