"""`POST /v1/text/locate`: where in this image is the text X?"""
from __future__ import annotations

import asyncio
import time

import numpy as np
from fastapi import APIRouter, Depends

from services.common.errors import PerceptError
from services.models.tokenfd import query_matches
from services.models.tokenfd.ink_words import PageInk
from services.models.tokenfd.triton import contract

from .. import maps
from ..dependencies import get_request_id, get_settings, get_triton
from ..inputs import CheckedLocateInput, read_locate_input
from ..openapi import request_body
from ..schemas import (
    BoxOut,
    ErrorResponse,
    GridInfo,
    Heatmap,
    HeatmapFormat,
    ImageInfo,
    LocateDecoding,
    LocateJsonRequest,
    LocateMultipartRequest,
    LocateOptions,
    LocateResponse,
    ModelRef,
    QueryMatch,
    Timings,
    TokenResult,
)
from ..settings import GatewaySettings
from ..triton_client import LocateOutput, ModelInfo, TritonClient

router = APIRouter(prefix="/v1/text", tags=["text"])

_ERRORS = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422, 429, 503)}


@router.post(
    "/locate",
    response_model=LocateResponse,
    summary="Locate a text query in an image",
    description="Send the image as a multipart upload (`image` file + fields) or as JSON with the image in "
                "base64. Each token of the query gets a similarity heatmap and the boxes above the threshold; "
                "`matches` are the places where the query's tokens stand together along a text line.",
    responses=_ERRORS,
    openapi_extra=request_body(form=LocateMultipartRequest, json=LocateJsonRequest),
)
async def locate(parsed: CheckedLocateInput = Depends(read_locate_input),
                 triton: TritonClient = Depends(get_triton),
                 settings: GatewaySettings = Depends(get_settings),
                 request_id: str = Depends(get_request_id)) -> LocateResponse:
    start = time.perf_counter()
    options = parsed.options
    output, model, page_ink = await _answer(triton, parsed, settings.max_image_pixels, request_id)
    answered = time.perf_counter()

    # The request's threshold, else PERCEPT_BOX_THRESHOLD, else the one the served checkpoint records, else 0.2.
    threshold = settings.locate_threshold(model.threshold) if options.threshold is None else options.threshold
    max_side = options.heatmap_max_side or settings.heatmap_max_side  # inputs.py refused one above it
    tokens, matches = await asyncio.to_thread(_results, output, options, threshold, model.decoding, max_side,
                                              page_ink)
    done = time.perf_counter()

    cols, rows = output.grid
    return LocateResponse(
        request_id=request_id,
        model=ModelRef(name=model.model_name, id=model.model_id, triton_model=contract.TOKENFD_LOCATE),
        query=options.query,
        threshold=threshold,
        decoding=LocateDecoding.of(model.decoding),
        matches=matches,
        tokens=tokens,
        grid=GridInfo(cols=cols, rows=rows, num_tiles=output.num_tiles, thumbnail=cols * rows > 1,
                      tile_size=contract.TILE_SIZE, feature_width=int(output.similarity.shape[2]),
                      feature_height=int(output.similarity.shape[1])),
        image=ImageInfo(width=output.image_size[0], height=output.image_size[1]),
        timings=Timings(decode_s=parsed.read_s, upstream_s=answered - start,
                        postprocess_s=done - answered, total_s=parsed.read_s + done - start),
    )


async def _answer(triton: TritonClient, parsed: CheckedLocateInput, max_pixels: int,
                  request_id: str) -> tuple[LocateOutput, ModelInfo, PageInk | None]:
    """The model's answer (with a one-word query's letters when the model spells it), its served model's record,
    and, when that model's matches are read from the ink, the page's ink: it needs only the page, so it is found
    while the model runs."""
    options = parsed.options
    answer = asyncio.ensure_future(triton.locate(parsed.image, options.query, max_tiles=options.max_tiles,
                                                 request_id=request_id))
    try:
        model = await triton.model_info(contract.TOKENFD_LOCATE)  # cached after the first call
    except PerceptError:
        await answer    # a failed model is the error to report (it counts the outcome); else this one
        raise
    except BaseException:
        _settle(answer)
        raise
    ink = (asyncio.ensure_future(asyncio.to_thread(PageInk.read, parsed.image, max_pixels=max_pixels))
           if model.decoding.boxes == query_matches.INK else None)
    try:
        return await answer, model, await ink if ink is not None else None
    finally:
        if ink is not None:
            _settle(ink)


def _results(output: LocateOutput, options: LocateOptions, threshold: float, decoding: query_matches.Decoding,
             heatmap_max_side: int, page_ink: PageInk | None) -> tuple[list[TokenResult], list[QueryMatch]]:
    """Each token's result, and the whole query's matches: chained from the tokens' regions, or, when the
    model's decoding takes them from the ink, the page's word boxes its maps single out. The heatmaps are
    encoded on the gateway's heatmap threads while this one reads the matches."""
    size = maps.heatmap_size(output.image_size, heatmap_max_side)
    grids = [np.asarray(grid, dtype=np.float32) for grid in output.similarity]
    wanted = set(range(len(grids))) if options.heatmap_tokens is None else set(options.heatmap_tokens)
    heatmaps = {index: maps.HEATMAP_ENCODERS.submit(_heatmap, grids[index], options.heatmap_format, size)
                for index in sorted(wanted & set(range(len(grids))))
                if options.heatmap_format is not HeatmapFormat.none}
    regions = [maps.components(grid, threshold, output.image_size, decoding) for grid in grids]
    if page_ink is not None:
        found = maps.ink_matches(output.similarity, threshold, output.image_size, decoding, page_ink,
                                 output.token_texts, options.query, options.max_matches,
                                 output.letters)
    else:
        found = query_matches.chain(regions, max_matches=options.max_matches, rank=decoding.rank)
    matches = [QueryMatch(x0=m.x0, y0=m.y0, x1=m.x1, y1=m.y1, score=m.score, mass=m.mass, tokens=list(m.tokens))
               for m in found]
    results = [TokenResult(index=index, token_id=token_id, text=text, max_similarity=float(grid.max()),
                           heatmap=heatmaps[index].result() if index in heatmaps else None,
                           boxes=[BoxOut(x0=b.x0, y0=b.y0, x1=b.x1, y1=b.y1, score=b.score)
                                  for b in token_regions[:options.max_boxes]])
               for index, (token_id, text, grid, token_regions) in enumerate(
                   zip(output.token_ids, output.token_texts, grids, regions, strict=True))]
    return results, matches


def _settle(task: asyncio.Future) -> None:
    """Stop waiting for a task the request no longer needs (the model failed first), and take what it raised,
    which asyncio would otherwise log as never retrieved (a broken image fails both)."""
    if task.done() and not task.cancelled():
        task.exception()
    else:
        task.cancel()


def _heatmap(grid: np.ndarray, heatmap_format: HeatmapFormat, size: tuple[int, int]) -> Heatmap | None:
    if heatmap_format is HeatmapFormat.png:
        return Heatmap(format=HeatmapFormat.png, width=size[0], height=size[1],
                       png_base64=maps.heatmap_png_base64(grid, size))
    if heatmap_format is HeatmapFormat.raw:
        return Heatmap(format=HeatmapFormat.raw, width=grid.shape[1], height=grid.shape[0], values=grid.tolist())
    return None
