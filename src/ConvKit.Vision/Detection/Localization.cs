namespace ConvKit.Vision.Detection;

/// <summary>
/// A localiser's answer for one picture: the probability that it holds an object, the object's class with its score,
/// and its box (xyxy, pixels of the picture).
/// </summary>
public sealed record Localization(float Pc, int Class, float ClassScore, float X1, float Y1, float X2, float Y2);
