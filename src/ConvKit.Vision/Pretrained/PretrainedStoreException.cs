namespace ConvKit.Vision.Pretrained;

/// <summary>
/// A pretrained package could not be had: the registry is out of reach, the tarball's checksum is not the pinned one,
/// the tarball is malformed, or the cache is damaged and cannot be fetched again. The message names the package.
/// </summary>
public sealed class PretrainedStoreException : IOException
{
    /// <summary>An error with its message (naming the package) and, when there is one, its cause.</summary>
    public PretrainedStoreException(string message, Exception? innerException = null) : base(message, innerException) { }
}
