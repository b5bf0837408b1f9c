"""PyTorch twin of taskonomy-rs's task network and readout, for `benches/training.rs`.

The same MLP-Mixer encoder (patch embedding + position, pre-norm Mixer blocks with ReLU MLPs, layer
norm, projection to the bottleneck), the same decoder (input layer, Mixer blocks, layer norm, per-token
output of a patch's pixels), the same readout (two per-token layers), Adam, mean L1 loss. Prints one JSON
line: training images per second of a task-network step and of a readout step (best of several timed
windows); readout-images per second (images × readouts) of a group of readouts trained together with
batched products, and of the same readouts trained one after the other; the parameter count, the
thread count and the torch version.

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


class ReadoutGroup(nn.Module):
    """`members` readouts stacked: one batched product per layer for all of them (the fair anchor for
    taskonomy-rs's grouped step, which trains the readouts into a target together)."""

    def __init__(self, a, members):
        super().__init__()
        out = 3 * a.patch * a.patch

        def uniform(fan_in, *shape):
            bound = fan_in ** -0.5
            return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

        self.w1 = uniform(a.bottleneck, members, a.bottleneck, a.readout_width)
        self.b1 = uniform(a.bottleneck, members, 1, a.readout_width)
        self.w2 = uniform(a.readout_width, members, a.readout_width, out)
        self.b2 = uniform(a.readout_width, members, 1, out)

    def forward(self, reps):  # (members, batch·tokens, bottleneck), one representation per member
        h = torch.relu(torch.baddbmm(self.b1, reps, self.w1))
        return torch.baddbmm(self.b2, h, self.w2)


def group_images_per_second(group, reps, targets, images, steps, windows):
    """Readout-images per second (images × readouts) of the stacked group: the sum of the members'
    mean L1 losses, one backward pass, one Adam step over the stacked parameters."""
    optimiser = torch.optim.Adam(group.parameters(), lr=1e-3)
    members = reps.shape[0]

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss = (group(reps) - targets).abs().mean(dim=(1, 2)).sum()
        loss.backward()
        optimiser.step()

    return timed(step, steps, windows) * members * images


def singles_images_per_second(readouts, reps, targets, steps, windows):
    """Readout-images per second of the same readouts trained one after the other, each its own
    module and optimiser (what a step II without groups does)."""
    optimisers = [torch.optim.Adam(r.parameters(), lr=1e-3) for r in readouts]

    def step():
        for readout, optimiser, rep in zip(readouts, optimisers, reps):
            optimiser.zero_grad(set_to_none=True)
            loss = (readout(rep) - targets).abs().mean()
            loss.backward()
            optimiser.step()

    return timed(step, steps, windows) * len(readouts) * targets.shape[0]


def timed(step, steps, windows):
    """Steps per second: the best of `windows` windows of `steps` steps, after 3 to warm up."""
    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, time.perf_counter() - start)
    return steps / best


def images_per_second(model, inputs, targets, steps, windows):
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss = (model(inputs) - targets).abs().mean()
        loss.backward()
        optimiser.step()

    return timed(step, steps, windows) * inputs.shape[0]


def main():
    p = argparse.ArgumentParser()
    for name, default in [
        ("image", 64), ("patch", 8), ("width", 64), ("bottleneck", 8), ("depth", 2),
        ("token_hidden", 64), ("channel_hidden", 128), ("decoder_width", 64), ("decoder_depth", 1),
        ("readout_width", 64), ("batch", 32), ("threads", 2), ("steps", 10), ("windows", 5),
        ("group", 25),
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
        "readout_group": group_images_per_second(
            ReadoutGroup(a, a.group),
            torch.randn(a.group, a.batch * tokens, a.bottleneck),
            targets.reshape(1, a.batch * tokens, values),
            a.batch,
            a.steps,
            a.windows,
        ),
        "readout_singles": singles_images_per_second(
            [Readout(a) for _ in range(a.group)],
            torch.randn(a.group, a.batch, tokens, a.bottleneck),
            targets,
            max(1, a.steps // 2),
            a.windows,
        ),
        "group": a.group,
        "params": sum(q.numel() for q in network.parameters()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
