"""Write a minimal llama-architecture GGUF (tiny random tensors) that `ollama create` accepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_gguf(
    path: Path,
    vocab: int = 32,
    dim: int = 16,
    ff: int = 32,
    layers: int = 1,
    seed: int = 0,
    byte_tokens: bool = False,
) -> Path:
    """`byte_tokens`: add SentencePiece's 256 byte-fallback tokens (<0x00>..<0xFF>) so the model
    can tokenize any text (generation and embeddings; without them llama.cpp's tokenizer aborts
    on the first character it has no token for). Off by default: the default file is pinned."""
    import gguf

    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("shai-tiny")
    w.add_context_length(64)
    w.add_embedding_length(dim)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(2)
    w.add_head_count_kv(2)
    w.add_rope_dimension_count(dim // 2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"t{i}".encode() for i in range(vocab - 3)]
    types = [2, 3, 3] + [1] * (vocab - 3)
    if byte_tokens:
        tokens += [f"<0x{b:02X}>".encode() for b in range(256)]
        types += [6] * 256  # BYTE
        vocab = len(tokens)
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * vocab)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def t(name: str, *shape: int) -> None:
        w.add_tensor(name, rng.standard_normal(shape).astype(np.float32) * 0.02)

    t("token_embd.weight", vocab, dim)
    w.add_tensor("output_norm.weight", np.ones(dim, dtype=np.float32))
    t("output.weight", vocab, dim)
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(dim, dtype=np.float32))
        for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{n}.weight", dim, dim)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(dim, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", ff, dim)
        t(f"blk.{i}.ffn_up.weight", ff, dim)
        t(f"blk.{i}.ffn_down.weight", dim, ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
