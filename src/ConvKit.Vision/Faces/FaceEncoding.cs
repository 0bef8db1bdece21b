namespace ConvKit.Vision.Faces;

/// <summary>
/// A face as 128 numbers from <see cref="FaceEncoder"/>: pictures of one person lie close together (Euclidean distance
/// under about 0.6), of different people farther apart.
/// </summary>
public sealed class FaceEncoding
{
    readonly float[] values;

    /// <summary>An encoding of <see cref="FaceEncoderNetwork.EncodingSize"/> finite values.</summary>
    public FaceEncoding(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != FaceEncoderNetwork.EncodingSize)
            throw new ArgumentException($"FaceEncoding: a face encoding has {FaceEncoderNetwork.EncodingSize} values, got {values.Length}.", nameof(values));
        if (!values.All(float.IsFinite)) throw new ArgumentException("FaceEncoding: the values must be finite.", nameof(values));
        this.values = [.. values];
    }

    /// <summary>The 128 values.</summary>
    public ReadOnlySpan<float> Values => values;

    /// <summary>The Euclidean distance ‖a − b‖₂ to <paramref name="other"/>, in float64.</summary>
    public double DistanceTo(FaceEncoding other)
    {
        ArgumentNullException.ThrowIfNull(other);
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double d = values[i] - (double)other.values[i];
            sum += d * d;
        }
        return Math.Sqrt(sum);
    }
}
