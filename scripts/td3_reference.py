"""A minimal TD3, line for line after sfujim/TD3 (TD3.py, main.py), to check the workbench's td3.

Usage: td3_reference.py ENV SEED STEPS WARMUP [actor_q=q1|min]
"""
import copy, sys, time
import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
env_id, seed, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
actor_q = sys.argv[5] if len(sys.argv) > 5 else "q1"
env, eval_env = gym.make(env_id), gym.make(env_id)
torch.manual_seed(seed); np.random.seed(seed)
sd, ad = env.observation_space.shape[0], env.action_space.shape[0]
max_a = float(env.action_space.high[0])

class Actor(nn.Module):
    def __init__(s):
        super().__init__(); s.l1, s.l2, s.l3 = nn.Linear(sd, 256), nn.Linear(256, 256), nn.Linear(256, ad)
    def forward(s, x):
        return max_a * torch.tanh(s.l3(F.relu(s.l2(F.relu(s.l1(x))))))

class Critic(nn.Module):
    def __init__(s):
        super().__init__()
        s.l1, s.l2, s.l3 = nn.Linear(sd + ad, 256), nn.Linear(256, 256), nn.Linear(256, 1)
        s.l4, s.l5, s.l6 = nn.Linear(sd + ad, 256), nn.Linear(256, 256), nn.Linear(256, 1)
    def forward(s, x, a):
        xa = torch.cat([x, a], 1)
        return (s.l3(F.relu(s.l2(F.relu(s.l1(xa))))), s.l6(F.relu(s.l5(F.relu(s.l4(xa))))))

actor, critic = Actor(), Critic()
actor_t, critic_t = copy.deepcopy(actor), copy.deepcopy(critic)
ao, co = torch.optim.Adam(actor.parameters(), lr=3e-4), torch.optim.Adam(critic.parameters(), lr=3e-4)
S = np.zeros((steps, sd), np.float32); A = np.zeros((steps, ad), np.float32); R = np.zeros((steps, 1), np.float32)
S2 = np.zeros((steps, sd), np.float32); ND = np.zeros((steps, 1), np.float32)
n, it = 0, 0

def evaluate():
    total = 0.0
    for k in range(10):
        o, _ = eval_env.reset(seed=seed + 100 + k); done = False
        while not done:
            with torch.no_grad():
                a = actor(torch.as_tensor(o, dtype=torch.float32)[None])[0].numpy()
            o, r, te, tr, _ = eval_env.step(a); total += r; done = te or tr
    return total / 10

o, _ = env.reset(seed=seed); env.action_space.seed(seed)
t0 = time.time()
for t in range(steps):
    if t < warmup:
        a = env.action_space.sample()
    else:
        with torch.no_grad():
            a = actor(torch.as_tensor(o, dtype=torch.float32)[None])[0].numpy()
        a = (a + np.random.normal(0, max_a * 0.1, size=ad)).clip(-max_a, max_a)
    o2, r, te, tr, _ = env.step(a)
    S[n], A[n], R[n], S2[n], ND[n] = o, a, r, o2, 1.0 - float(te); n += 1
    o = o2
    if te or tr:
        o, _ = env.reset()
    if t >= warmup:
        it += 1
        idx = np.random.randint(0, n, size=256)
        s, a_, r_, s2, nd = (torch.as_tensor(v[idx]) for v in (S, A, R, S2, ND))
        with torch.no_grad():
            noise = (torch.randn_like(a_) * 0.2).clamp(-0.5, 0.5)
            a2 = (actor_t(s2) + noise).clamp(-max_a, max_a)
            q1t, q2t = critic_t(s2, a2)
            y = r_ + nd * 0.99 * torch.min(q1t, q2t)
        q1, q2 = critic(s, a_)
        loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        co.zero_grad(); loss.backward(); co.step()
        if it % 2 == 0:
            q1a, q2a = critic(s, actor(s))
            aloss = -(q1a if actor_q == "q1" else torch.min(q1a, q2a)).mean()
            ao.zero_grad(); aloss.backward(); ao.step()
            with torch.no_grad():
                for p, pt in zip(critic.parameters(), critic_t.parameters()): pt.lerp_(p, 0.005)
                for p, pt in zip(actor.parameters(), actor_t.parameters()): pt.lerp_(p, 0.005)
    if (t + 1) % 5000 == 0:
        print(f"{env_id} seed {seed} actor_q {actor_q} step {t + 1} eval {evaluate():.1f} ({time.time() - t0:.0f} s)", flush=True)
