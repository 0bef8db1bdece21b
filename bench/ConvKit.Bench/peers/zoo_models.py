"""PyTorch twins of ConvKit's zoo models that torchvision lacks (LeNet-5, small-cnn, resnet-mnist), with the same
parameter names as ConvKit's, so one state dict fits both. Used by the zoo benchmark peer and by
tools/fixtures/gen_zoo.py."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, input_size=32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=(32 - input_size) // 2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, kernel, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SmallCnn(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(
            ConvBnRelu(in_channels, 32, 3, 1), ConvBnRelu(32, 32, 3, 1), nn.MaxPool2d(2),
            ConvBnRelu(32, 64, 3, 1), ConvBnRelu(64, 64, 3, 1), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Dropout(0.25), nn.Linear(64 * 7 * 7, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class ResNetMnist(nn.Module):
    """torchvision's ResNet layout with basic blocks [2, 2, 2, 2] at widths 16-128, a 3x3 stride-1 stem and no max-pool."""

    def __init__(self, num_classes=10, in_channels=1, widths=(16, 32, 64, 128), blocks=(2, 2, 2, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        channels = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            layers = []
            for i in range(count):
                stride = 2 if stage > 0 and i == 0 else 1
                downsample = None
                if stride != 1 or channels != width:
                    downsample = nn.Sequential(nn.Conv2d(channels, width, 1, stride, bias=False), nn.BatchNorm2d(width))
                layers.append(BasicBlock(channels, width, stride, downsample))
                channels = width
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
