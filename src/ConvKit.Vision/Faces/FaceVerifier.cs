namespace ConvKit.Vision.Faces;

/// <summary>
/// Face verification (1:1, "is this the claimed person?"): two encodings show the same person when their Euclidean
/// distance is below the threshold — 0.6 by default, the radius dlib trained the encoder's identities into (face-api.js's
/// <c>FaceMatcher</c> default; lower it for fewer false matches).
/// </summary>
public sealed class FaceVerifier
{
    /// <summary>The default threshold: 0.6.</summary>
    public const double DefaultThreshold = 0.6;

    /// <summary>Distances strictly below this mean "same person".</summary>
    public double Threshold { get; }

    /// <summary>A verifier with <paramref name="threshold"/> (positive, finite).</summary>
    public FaceVerifier(double threshold = DefaultThreshold)
    {
        if (!(threshold > 0) || !double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), $"FaceVerifier: the threshold must be a positive distance, got {threshold}.");
        Threshold = threshold;
    }

    /// <summary>The distance between two encodings and whether it is below the threshold.</summary>
    public FaceVerification Verify(FaceEncoding a, FaceEncoding b)
    {
        double distance = a.DistanceTo(b);
        return new FaceVerification(distance, Threshold, distance < Threshold);
    }
}

/// <summary>The outcome of <see cref="FaceVerifier.Verify"/>: the distance, the threshold it was held against, and the verdict.</summary>
public sealed record FaceVerification(double Distance, double Threshold, bool SamePerson);
