# Copyright 2026 vla_ros maintainers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Inverse kinematics of the arm's tool centre point by damped least squares.

The tool target is a position and a yaw with the tool pointing straight down, the only poses
the tasks need. The solver runs on its own `MjData` so it never disturbs the simulation, and it
is deterministic: the same start and target give the same joints.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_ros.sim.robot import ARM_JOINT_NAMES, JOINT_LIMITS


class IKError(RuntimeError):
    """The solver did not reach the target within tolerance."""


def tool_down_rotation(yaw_rad: float) -> np.ndarray:
    """
    Rotation (3, 3) of a tool pointing down (-z world) turned by `yaw_rad` about z.

    Yaw 0 is the tool at the home pose with ``shoulder_pan = wrist_roll = 0``: its x axis (the
    finger axis) along world -x. The fingers are symmetric, so yaw and yaw + pi grasp alike.
    """
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    # Columns are the tool axes in world: x = (-c, -s, 0), y = (-s, c, 0), z = (0, 0, -1).
    return np.array([[-c, -s, 0.0], [-s, c, 0.0], [0.0, 0.0, -1.0]])


class ToolIK:
    """Joint positions that put the ``tcp`` site at a position and tool-down yaw."""

    def __init__(self, model: mujoco.MjModel, site: str = 'tcp'):
        self.model = model
        self.data = mujoco.MjData(model)
        self.site_id = model.site(site).id
        self.qpos_index = np.array([model.joint(n).qposadr[0] for n in ARM_JOINT_NAMES])
        self.dof_index = np.array([model.joint(n).dofadr[0] for n in ARM_JOINT_NAMES])
        self.lower = JOINT_LIMITS.lower[:6]
        self.upper = JOINT_LIMITS.upper[:6]

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the tcp position (3,) and rotation (3, 3) at arm joints `q` (6,)."""
        self.data.qpos[self.qpos_index] = q
        mujoco.mj_kinematics(self.model, self.data)
        return (self.data.site_xpos[self.site_id].copy(),
                self.data.site_xmat[self.site_id].reshape(3, 3).copy())

    def solve(self, position: np.ndarray, yaw_rad: float, q_start: np.ndarray,
              tol_m: float = 1e-6, tol_rad: float = 1e-5,
              max_iterations: int = 200) -> np.ndarray:
        """
        Return arm joints (6,) reaching `position` with the tool down at `yaw_rad`.

        Starts from `q_start`, so a chain of close targets stays on one IK branch. The tight
        default tolerances matter: a trajectory sampled every 10 ms turns residual IK error into
        acceleration noise. Raises `IKError` if the position error stays above 5 `tol_m`.
        """
        target_quat = np.empty(4)
        mujoco.mju_mat2Quat(target_quat, tool_down_rotation(yaw_rad).ravel())
        quat = np.empty(4)
        err_rot = np.empty(3)
        q = np.array(q_start, dtype=np.float64)
        jac_pos = np.zeros((3, self.model.nv))
        jac_rot = np.zeros((3, self.model.nv))
        for _ in range(max_iterations):
            pos, rot = self.forward(q)
            err_pos = position - pos
            mujoco.mju_mat2Quat(quat, rot.ravel())
            # Rotation vector taking the current tool frame to the target, in the tool frame.
            mujoco.mju_subQuat(err_rot, target_quat, quat)
            err_rot = rot @ err_rot
            if np.linalg.norm(err_pos) < tol_m and np.linalg.norm(err_rot) < tol_rad:
                return q
            mujoco.mj_comPos(self.model, self.data)
            mujoco.mj_jacSite(self.model, self.data, jac_pos, jac_rot, self.site_id)
            jac = np.vstack([jac_pos[:, self.dof_index], jac_rot[:, self.dof_index]])
            err = np.concatenate([err_pos, 0.3 * err_rot])
            jac_w = np.vstack([jac[:3], 0.3 * jac[3:]])
            # Damped least squares (Wampler 1986): stays bounded near singularities.
            step = jac_w.T @ np.linalg.solve(jac_w @ jac_w.T + 1e-4 * np.eye(6), err)
            step *= min(1.0, 0.5 / max(np.abs(step).max(), 1e-12))
            q = np.clip(q + step, self.lower, self.upper)
        pos, _ = self.forward(q)
        miss = np.linalg.norm(position - pos)
        if miss > max(5 * tol_m, 1e-4):
            raise IKError(f'tcp target {np.round(position, 3).tolist()} yaw {yaw_rad:.2f}: '
                          f'missed by {miss * 1000:.1f} mm')
        return q
