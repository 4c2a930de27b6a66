"""PyTorch ResNets with the official L2T-ww CIFAR layout and torchvision's layout.

Written from the two codebases' module structure (same parameter names, same
forward pass) so that the converter is checked against torch's own forward
pass without torchvision, which is not installable offline here.
"""
import torch
from torch import nn


class BasicBlock(nn.Module):
  """torchvision's BasicBlock: conv3x3-BN-ReLU, conv3x3-BN, + shortcut, ReLU."""

  def __init__(self, inplanes: int, planes: int, stride: int = 1):
    super().__init__()
    self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(planes)
    self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(planes)
    self.relu = nn.ReLU()
    self.downsample = None
    if stride != 1 or inplanes != planes:
      self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                      nn.BatchNorm2d(planes))

  def forward(self, x):
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    shortcut = x if self.downsample is None else self.downsample(x)
    return self.relu(out + shortcut)


class CifarResNet(nn.Module):
  """The official CResNet: conv1 (bias) + bn1, then per stage block{2s-1} and
  blocks{2s}.0..n-1; returns (logits, [each stage output])."""

  def __init__(self, depth: int, num_classes: int):
    super().__init__()
    n = (depth - 2) // 6 - 1
    self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
    self.bn1 = nn.BatchNorm2d(16)
    self.block1 = BasicBlock(16, 16)
    self.blocks2 = nn.Sequential(*[BasicBlock(16, 16) for _ in range(n)])
    self.block3 = BasicBlock(16, 32, 2)
    self.blocks4 = nn.Sequential(*[BasicBlock(32, 32) for _ in range(n)])
    self.block5 = BasicBlock(32, 64, 2)
    self.blocks6 = nn.Sequential(*[BasicBlock(64, 64) for _ in range(n)])
    self.fc = nn.Linear(64, num_classes)

  def forward(self, x):
    x = torch.relu(self.bn1(self.conv1(x)))
    f1 = self.blocks2(self.block1(x))
    f2 = self.blocks4(self.block3(f1))
    f3 = self.blocks6(self.block5(f2))
    return self.fc(f3.mean((2, 3))), [f1, f2, f3]


class TorchvisionResNet(nn.Module):
  """torchvision.models.resnet18/34: returns (logits, [each stage output])."""

  def __init__(self, blocks, num_classes: int):
    super().__init__()
    self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    self.bn1 = nn.BatchNorm2d(64)
    self.maxpool = nn.MaxPool2d(3, 2, 1)
    inplanes = 64
    for stage, (count, planes) in enumerate(zip(blocks, (64, 128, 256, 512)), 1):
      stride = 1 if stage == 1 else 2
      layers = [BasicBlock(inplanes, planes, stride)]
      layers += [BasicBlock(planes, planes) for _ in range(count - 1)]
      setattr(self, f"layer{stage}", nn.Sequential(*layers))
      inplanes = planes
    self.fc = nn.Linear(512, num_classes)

  def forward(self, x):
    x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
    features = []
    for stage in range(1, 5):
      x = getattr(self, f"layer{stage}")(x)
      features.append(x)
    return self.fc(x.mean((2, 3))), features


def randomise(model: nn.Module, seed: int) -> nn.Module:
  """Random weights and BatchNorm statistics (not the identity defaults), eval mode."""
  generator = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for name, tensor in model.state_dict().items():
      if name.endswith("num_batches_tracked"):
        continue
      values = torch.rand(tensor.shape, generator=generator)
      if tensor.dim() > 1:  # conv or linear kernel: unit gain over fan-in
        fan_in = tensor[0].numel()
        tensor.copy_(torch.randn(tensor.shape, generator=generator) / fan_in ** 0.5)
      elif name.endswith("running_var"):
        tensor.copy_(0.5 + values)
      elif name.endswith(("bn1.weight", "bn2.weight", "downsample.1.weight")):
        tensor.copy_(0.5 + 0.5 * values)
      else:
        tensor.copy_(0.2 * (values - 0.5))
  return model.eval()
