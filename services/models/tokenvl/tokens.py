"""TokenVL's special tokens, its tokenizer and the InternVL2.5 chat template (torch-free;
runs inside Triton and in the reference).

    <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n<image>\n{question}<|im_end|>\n
    <|im_start|>assistant\n

Each `<image>` becomes `<img>` + `<IMG_CONTEXT>` x (256 x tiles) + `</img>`; the visual
embeddings replace the embeddings at the `<IMG_CONTEXT>` positions. Generation stops at
`<|im_end|>`. The prompt is built as token ids piece by piece (text pieces tokenised, image
blocks inserted as ids); text that spells an image token is refused before it gets here
(triton/generation.py), so a user's text cannot forge an image block.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from services.triton.generation import IMAGE_PLACEHOLDER, Turn

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
IMG_START, IMG_END, IMG_CONTEXT = "<img>", "</img>", "<IMG_CONTEXT>"
# InternLM2's added tokens as InternVL2.5 has them (the real vocabulary: <|im_end|> 92542, <IMG_CONTEXT> 92546).
SPECIAL_TOKENS = (UNK, BOS, EOS, IM_START, IM_END, "<|action_start|>", "<|action_end|>", "<|interpreter|>",
                  "<|plugin|>", IMG_START, IMG_END, IMG_CONTEXT, "<quad>", "</quad>", "<ref>", "</ref>", "<box>",
                  "</box>")
TOKENIZER_FILE = "tokenizer.json"
# InternVL2.5's default system message (kept configurable: PromptBuilder(system_message=...)).
DEFAULT_SYSTEM_MESSAGE = ("你是书生·万象，英文名是InternVL，"
                          "是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。")


class Tokenizer:
    """A `tokenizers` tokenizer.json with TokenVL's special tokens resolved to ids."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        ids = {token: tokenizer.token_to_id(token) for token in (BOS, IM_START, IM_END, IMG_START, IMG_END,
                                                                 IMG_CONTEXT)}
        missing = [token for token, value in ids.items() if value is None]
        if missing:
            raise ValueError(f"the tokenizer lacks TokenVL's special tokens {', '.join(missing)}")
        self.bos_id, self.im_start_id, self.im_end_id = ids[BOS], ids[IM_START], ids[IM_END]
        self.img_start_id, self.img_end_id, self.img_context_id = ids[IMG_START], ids[IMG_END], ids[IMG_CONTEXT]

    @classmethod
    def from_file(cls, path: str | Path) -> "Tokenizer":
        from tokenizers import Tokenizer as HFTokenizer

        return cls(HFTokenizer.from_file(str(path)))

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    def encode(self, text: str) -> list[int]:
        """Text to ids, special tokens recognised, nothing added."""
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids) if text else []

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    image_tokens: int      # <IMG_CONTEXT> positions (256 per tile)


class PromptBuilder:
    """Turns (PROMPT | MESSAGES) + tiles per image into prompt ids (the InternVL2.5 template)."""

    def __init__(self, tokenizer: Tokenizer, *, system_message: str = DEFAULT_SYSTEM_MESSAGE,
                 tokens_per_tile: int = 256) -> None:
        self.tokenizer = tokenizer
        self.system_message = system_message
        self.tokens_per_tile = tokens_per_tile

    def single(self, question: str, tiles_per_image: Sequence[int]) -> Prompt:
        """PROMPT: one user instruction, the images before it (one `<image>` line each)."""
        content = "".join(f"{IMAGE_PLACEHOLDER}\n" for _ in tiles_per_image) + question
        return self.chat([Turn("user", content)], tiles_per_image)

    def chat(self, turns: Sequence[Turn], tiles_per_image: Sequence[int]) -> Prompt:
        """MESSAGES: the turns in order, a system turn first (the default when none is given),
        then the assistant's opening. `<image>` in user turns takes the images in order."""
        if not turns or turns[0].role != "system":
            turns = [Turn("system", self.system_message), *turns]
        ids = [self.tokenizer.bos_id]
        images = iter(tiles_per_image)
        image_tokens = 0
        for turn in turns:
            ids += [self.tokenizer.im_start_id] + self.tokenizer.encode(f"{turn.role}\n")
            pieces = turn.content.split(IMAGE_PLACEHOLDER) if turn.role == "user" else [turn.content]
            for index, piece in enumerate(pieces):
                if index:
                    count = self.tokens_per_tile * next(images)
                    ids += [self.tokenizer.img_start_id] + [self.tokenizer.img_context_id] * count \
                        + [self.tokenizer.img_end_id]
                    image_tokens += count
                ids += self.tokenizer.encode(piece)
            ids += [self.tokenizer.im_end_id] + self.tokenizer.encode("\n")
        ids += [self.tokenizer.im_start_id] + self.tokenizer.encode("assistant\n")
        return Prompt(ids, image_tokens)
