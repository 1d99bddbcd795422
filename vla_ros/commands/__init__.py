"""Sub-commands of the ``vla-ros`` CLI (see `vla_ros.cli`)."""
