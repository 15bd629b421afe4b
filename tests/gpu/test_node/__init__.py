"""A ComfyUI custom node TEST DOUBLE for shai's comfyui role tests: registers nothing."""

NODE_CLASS_MAPPINGS: dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
