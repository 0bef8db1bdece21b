namespace ConvKit.Vision.Detection;

/// <summary>A detected object: its class index, its score in (0, 1] and its box, xyxy in pixels of the picture given.</summary>
public sealed record DetectedObject(int Class, float Score, float X1, float Y1, float X2, float Y2);
