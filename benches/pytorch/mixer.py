"""PyTorch twin of taskonomy-rs's task network and readout, for `benches/training.rs`.

The same MLP-Mixer encoder (patch embedding + position, pre-norm Mixer blocks with ReLU MLPs, layer
norm, projection to the bottleneck), the same decoder (input layer, Mixer blocks, layer norm, per-token
output of a patch's pixels), the same readout (two per-token layers), Adam, mean L1 loss. Prints one JSON
line: training images per second of a task-network step and of a readout step (best of several timed
windows), the parameter count, the thread count and the torch version.

    python3 benches/pytorch/mixer.py --image 64 --patch 8 --batch 32 --threads 2
"""
import argparse
import json
import time

import torch
import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.hidden = nn.Linear(dim, hidden)
        self.out = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


class MixerBlock(nn.Module):
    def __init__(self, tokens, width, token_hidden, channel_hidden):
        super().__init__()
        self.token_norm = nn.LayerNorm(width)
        self.tokens = Mlp(tokens, token_hidden)
        self.channel_norm = nn.LayerNorm(width)
        self.channels = Mlp(width, channel_hidden)

    def forward(self, x):  # (batch, tokens, width)
        x = x + self.tokens(self.token_norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channels(self.channel_norm(x))


class TaskNetwork(nn.Module):
    def __init__(self, a):
        super().__init__()
        tokens = (a.image // a.patch) ** 2
        self.embed = nn.Linear(3 * a.patch * a.patch, a.width)
        self.position = nn.Parameter(torch.randn(tokens, a.width) * 0.02)
        self.blocks = nn.Sequential(
            *[MixerBlock(tokens, a.width, a.token_hidden, a.channel_hidden) for _ in range(a.depth)]
        )
        self.norm = nn.LayerNorm(a.width)
        self.project = nn.Linear(a.width, a.bottleneck)
        self.head_input = nn.Linear(a.bottleneck, a.decoder_width)
        self.head_blocks = nn.Sequential(
            *[
                MixerBlock(tokens, a.decoder_width, a.token_hidden, 2 * a.decoder_width)
                for _ in range(a.decoder_depth)
            ]
        )
        self.head_norm = nn.LayerNorm(a.decoder_width)
        self.head_output = nn.Linear(a.decoder_width, 3 * a.patch * a.patch)

    def forward(self, patches):  # (batch, tokens, 3·patch²)
        x = self.embed(patches) + self.position
        reps = self.project(self.norm(self.blocks(x)))
        h = torch.relu(self.head_input(reps))
        return self.head_output(self.head_norm(self.head_blocks(h)))


class Readout(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.input = nn.Linear(a.bottleneck, a.readout_width)
        self.output = nn.Linear(a.readout_width, 3 * a.patch * a.patch)

    def forward(self, reps):
        return self.output(torch.relu(self.input(reps)))


def images_per_second(model, inputs, targets, steps, windows):
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss = (model(inputs) - targets).abs().mean()
        loss.backward()
        optimiser.step()

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, time.perf_counter() - start)
    return steps * inputs.shape[0] / best


def main():
    p = argparse.ArgumentParser()
    for name, default in [
        ("image", 64), ("patch", 8), ("width", 64), ("bottleneck", 8), ("depth", 2),
        ("token_hidden", 64), ("channel_hidden", 128), ("decoder_width", 64), ("decoder_depth", 1),
        ("readout_width", 64), ("batch", 32), ("threads", 2), ("steps", 10), ("windows", 5),
    ]:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=default)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    tokens = (a.image // a.patch) ** 2
    values = 3 * a.patch * a.patch
    inputs = torch.randn(a.batch, tokens, values)
    targets = torch.randn(a.batch, tokens, values)
    network = TaskNetwork(a)
    readout = Readout(a)
    reps = torch.randn(a.batch, tokens, a.bottleneck)
    result = {
        "task_network": images_per_second(network, inputs, targets, a.steps, a.windows),
        "readout": images_per_second(readout, reps, targets, a.steps * 5, a.windows),
        "params": sum(q.numel() for q in network.parameters()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
