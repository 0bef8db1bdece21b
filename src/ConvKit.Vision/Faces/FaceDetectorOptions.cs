namespace ConvKit.Vision.Faces;

/// <summary>Settings of <see cref="FaceDetector"/>, face-api.js's defaults unless changed.</summary>
/// <param name="InputSize">side of the square the picture is resized to, a multiple of 32: 320 is faster, 608 finds smaller faces</param>
/// <param name="ScoreThreshold">keep boxes whose score (σ of the objectness) is strictly above this</param>
/// <param name="IouThreshold">non-maximum suppression: drop a box overlapping a better one by an IoU above this</param>
public sealed record FaceDetectorOptions(int InputSize = 416, float ScoreThreshold = 0.5f, float IouThreshold = 0.4f)
{
    /// <summary>Throws for an input size that is not a positive multiple of 32 or a threshold outside [0, 1].</summary>
    public FaceDetectorOptions Validate()
    {
        if (InputSize < 32 || InputSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(InputSize), $"FaceDetector: the input size must be a positive multiple of 32 (320, 416, 608 ...), got {InputSize}.");
        if (!(ScoreThreshold is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), $"FaceDetector: the score threshold must be in [0, 1], got {ScoreThreshold}.");
        if (!(IouThreshold is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(IouThreshold), $"FaceDetector: the IoU threshold must be in [0, 1], got {IouThreshold}.");
        return this;
    }
}
