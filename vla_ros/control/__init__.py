"""Chunk execution: timeline, blending, interpolation and limits (numpy only)."""

from vla_ros.control.chunk import ActionChunk, ChunkError

__all__ = ['ActionChunk', 'ChunkError']
