namespace ConvKit.Vision.Detection;

/// <summary>
/// Which decoded boxes are kept: those scoring at least <see cref="ScoreThreshold"/> (0.05 suits evaluation, where
/// low-scoring boxes still add recall; 0.25 suits showing a picture's objects), after per-class non-maximum
/// suppression at <see cref="IouThreshold"/>, the <see cref="MaxDetections"/> best per picture.
/// </summary>
public sealed record DetectionOptions(float ScoreThreshold = 0.05f, float IouThreshold = 0.45f, int MaxDetections = 100)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the value out of range.</summary>
    public void Validate()
    {
        if (!(ScoreThreshold >= 0 && ScoreThreshold <= 1))
            throw new ArgumentException($"DetectionOptions: ScoreThreshold must be in [0, 1], got {ScoreThreshold}.");
        if (!(IouThreshold >= 0 && IouThreshold <= 1))
            throw new ArgumentException($"DetectionOptions: IouThreshold must be in [0, 1], got {IouThreshold}.");
        if (MaxDetections < 1)
            throw new ArgumentException($"DetectionOptions: MaxDetections must be at least 1, got {MaxDetections}.");
    }
}
