using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Sliding-window detection, both ways the course teaches: <see cref="Naive"/> crops every window of a picture and
/// classifies it alone; <see cref="Convolutional"/> runs the same <see cref="WindowClassifier"/> weights over the whole
/// picture at once (<see cref="ConvolutionalWindowClassifier"/>), sharing the overlapping windows' computations. Both
/// give class probabilities (softmax) per window, (N, classes, rows, columns), for the windows at (row·stride,
/// column·stride) with the classifier's <see cref="WindowClassifier.Stride"/>; run the classifier in evaluation mode
/// (<c>Eval()</c>) and the two agree to rounding. <see cref="Detect"/> turns either's scores into boxes.
/// Both run without recording gradients.
/// </summary>
public static class SlidingWindows
{
    /// <summary>
    /// Crop-and-classify: every window of <paramref name="pictures"/> is cut out and classified by
    /// <paramref name="classifier"/>, <paramref name="batchSize"/> windows at a time.
    /// </summary>
    /// <param name="pictures">(N, InChannels, H, W), at least the window's size</param>
    /// <returns>softmax probabilities (N, Classes, rows, columns)</returns>
    public static Tensor Naive(WindowClassifier classifier, Tensor pictures, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(pictures);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (pictures.Rank != 4 || pictures.Shape[1] != classifier.InChannels)
            throw new ArgumentException($"SlidingWindows.Naive: the pictures must be (N, {classifier.InChannels}, H, W), got {ModelChecks.Format(pictures.Shape)}.");
        int n = pictures.Shape[0], channels = pictures.Shape[1], height = pictures.Shape[2], width = pictures.Shape[3];
        var (rows, columns) = classifier.Positions(height, width);
        var (window, stride) = (classifier.WindowSize, classifier.Stride);
        int perPicture = rows * columns, total = n * perPicture, windowLength = channels * window.Height * window.Width;
        var values = pictures.ToArray();
        var scores = new float[total * classifier.Classes];

        using var _ = Tensor.NoGrad();
        for (int start = 0; start < total; start += batchSize)
        {
            int count = Math.Min(batchSize, total - start);
            var crops = new float[count * windowLength];
            for (int k = 0; k < count; k++)
            {
                int w = start + k, picture = w / perPicture, row = w % perPicture / columns, column = w % columns;
                for (int c = 0; c < channels; c++)
                    for (int y = 0; y < window.Height; y++)
                        values.AsSpan(((picture * channels + c) * height + row * stride.Height + y) * width + column * stride.Width, window.Width)
                            .CopyTo(crops.AsSpan(((k * channels + c) * window.Height + y) * window.Width, window.Width));
            }
            var probabilities = F.Softmax(classifier.Forward(Tensor.FromArray(crops, count, channels, window.Height, window.Width)), 1);
            probabilities.ToArray().CopyTo(scores.AsSpan(start * classifier.Classes));
        }
        // Rows of (picture, row, column) × classes to (picture, class, row, column).
        return Tensor.FromArray(scores, n, rows, columns, classifier.Classes).Permute(0, 3, 1, 2).Reshape(n, classifier.Classes, rows, columns);
    }

    /// <summary>The convolutional implementation: one pass of <paramref name="classifier"/>'s weights over each whole picture.</summary>
    /// <param name="pictures">(N, InChannels, H, W), at least the window's size</param>
    /// <returns>softmax probabilities (N, Classes, rows, columns)</returns>
    public static Tensor Convolutional(WindowClassifier classifier, Tensor pictures)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(pictures);
        using var _ = Tensor.NoGrad();
        return F.Softmax(classifier.ToConvolutional().Forward(pictures), 1);
    }

    /// <summary>
    /// The windows whose best class (other than <paramref name="backgroundClass"/>) scores at least
    /// <paramref name="scoreThreshold"/>, as boxes of the window's place, kept by per-class non-max suppression
    /// (<see cref="BoxOps.BatchedNms(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, double)"/>), best first.
    /// </summary>
    /// <param name="scores">(N, classes, rows, columns) from <see cref="Naive"/> or <see cref="Convolutional"/></param>
    /// <param name="backgroundClass">a class meaning "nothing here", never reported; null when there is none</param>
    /// <returns>each picture's detections, xyxy pixels</returns>
    public static IReadOnlyList<DetectedObject>[] Detect(Tensor scores, WindowClassifier classifier, float scoreThreshold = 0.5f,
        float iouThreshold = 0.3f, int? backgroundClass = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(classifier);
        if (scores.Rank != 4 || scores.Shape[1] != classifier.Classes)
            throw new ArgumentException($"SlidingWindows.Detect: the scores must be (N, {classifier.Classes}, rows, columns), got {ModelChecks.Format(scores.Shape)}.");
        if (!(scoreThreshold >= 0 && scoreThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(scoreThreshold), scoreThreshold, "SlidingWindows.Detect: the score threshold must be in [0, 1].");
        if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "SlidingWindows.Detect: the IoU threshold must be in [0, 1].");
        int n = scores.Shape[0], classes = scores.Shape[1], rows = scores.Shape[2], columns = scores.Shape[3], plane = rows * columns;
        var (window, stride) = (classifier.WindowSize, classifier.Stride);
        var values = scores.ToArray();
        var result = new IReadOnlyList<DetectedObject>[n];
        for (int picture = 0; picture < n; picture++)
        {
            var (boxes, best, labels) = (new List<float>(), new List<float>(), new List<int>());
            for (int at = 0; at < plane; at++)
            {
                int bestClass = -1;
                for (int c = 0; c < classes; c++)
                    if (c != backgroundClass && (bestClass < 0 || values[(picture * classes + c) * plane + at] > values[(picture * classes + bestClass) * plane + at])) bestClass = c;
                float score = bestClass < 0 ? 0 : values[(picture * classes + bestClass) * plane + at];
                if (bestClass < 0 || score < scoreThreshold) continue;
                float x = at % columns * stride.Width, y = at / columns * stride.Height;
                boxes.AddRange([x, y, x + window.Width, y + window.Height]);
                best.Add(score);
                labels.Add(bestClass);
            }
            var kept = BoxOps.BatchedNms(boxes.ToArray(), best.ToArray(), labels.ToArray(), iouThreshold);
            result[picture] = kept.Select(k => new DetectedObject(labels[k], best[k], boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2], boxes[4 * k + 3])).ToArray();
        }
        return result;
    }
}
