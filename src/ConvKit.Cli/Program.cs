// convkit: the command-line face of ConvKit. Commands are added by the issues that build them.
using System.CommandLine;

var root = new RootCommand("ConvKit: train and run convolutional neural networks in pure .NET.");
return root.Parse(args).Invoke();
