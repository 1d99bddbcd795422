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

"""Build and install vla_ros: with colcon (ament_python) under ROS 2, or with pip without it."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'vla_ros'


def tree_data_files(root):
    """Map every file below `root` to share/vla_ros/<root>/..., keeping sub-folders."""
    entries = []
    for folder, _, files in os.walk(root):
        if files:
            entries.append((os.path.join('share', PACKAGE, folder),
                            [os.path.join(folder, name) for name in sorted(files)]))
    return entries


NODES = {
    'policy_node': 'vla_ros.ros.policy_node:main',
    'chunk_executor_node': 'vla_ros.ros.chunk_executor_node:main',
    'sim_node': 'vla_ros.ros.sim_node:main',
}

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={PACKAGE: ['sim/assets/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', glob('launch/*.launch.py')),
        ('share/' + PACKAGE + '/config', glob('config/*.yaml')),
    ] + tree_data_files('models'),
    python_requires='>=3.10',
    install_requires=['setuptools', 'numpy', 'pyyaml'],
    extras_require={
        # The policy, training and the simulation demo. torch is pinned only in the README
        # command (a CPU wheel); any torch >= 2.5 works.
        'sim': [
            'torch>=2.5', 'transformers>=4.50', 'tokenizers>=0.20', 'safetensors>=0.4',
            'scipy>=1.10', 'mujoco>=3.1', 'tqdm', 'matplotlib', 'imageio', 'imageio-ffmpeg',
            'pyarrow', 'pillow',
        ],
        'dev': [
            'torch>=2.5', 'transformers>=4.50', 'tokenizers>=0.20', 'safetensors>=0.4',
            'scipy>=1.10', 'mujoco>=3.1', 'tqdm', 'matplotlib', 'imageio', 'imageio-ffmpeg',
            'pyarrow', 'pillow',
            # Jazzy's launch_testing pytest plugin breaks on pytest >= 9.1.
            'pytest<9.1', 'hypothesis', 'flake8', 'flake8-import-order', 'flake8-quotes',
            # the plugins ament_flake8 runs, so CI without ROS lints the same way
            'flake8-builtins', 'flake8-class-newline', 'flake8-comprehensions', 'pydocstyle',
        ],
    },
    zip_safe=True,
    maintainer='vla_ros maintainers',
    maintainer_email='maintainers@vla-ros.dev',
    description='Vision-Language-Action policies on ROS 2 arms: policy, chunk executor, sim.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [f'{name} = {target}' for name, target in NODES.items()] + [
            'vla-ros = vla_ros.cli:main',
        ],
    },
)
