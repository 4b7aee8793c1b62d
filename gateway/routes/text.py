"""`POST /v1/text/locate`: where in this image is the text X?"""
from __future__ import annotations

import asyncio
import time

import numpy as np
from fastapi import APIRouter, Depends

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
    LocateJsonRequest,
    LocateMultipartRequest,
    LocateOptions,
    LocateResponse,
    ModelRef,
    Timings,
    TokenResult,
)
from ..settings import GatewaySettings
from ..triton_client import LocateOutput, TritonClient

router = APIRouter(prefix="/v1/text", tags=["text"])

_ERRORS = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422, 429, 503)}


@router.post(
    "/locate",
    response_model=LocateResponse,
    summary="Locate a text query in an image",
    description="Send the image as a multipart upload (`image` file + fields) or as JSON with the image in "
                "base64. Each token of the query gets a similarity heatmap and the boxes above the threshold.",
    responses=_ERRORS,
    openapi_extra=request_body(form=LocateMultipartRequest, json=LocateJsonRequest),
)
async def locate(parsed: CheckedLocateInput = Depends(read_locate_input),
                 triton: TritonClient = Depends(get_triton),
                 settings: GatewaySettings = Depends(get_settings),
                 request_id: str = Depends(get_request_id)) -> LocateResponse:
    start = time.perf_counter()
    options = parsed.options
    output = await triton.locate(parsed.image, options.query, max_tiles=options.max_tiles, request_id=request_id)
    model = await triton.model_info(contract.TOKENFD_LOCATE)  # cached after the first call
    answered = time.perf_counter()

    threshold = settings.box_threshold if options.threshold is None else options.threshold
    tokens = await asyncio.to_thread(_token_results, output, options, threshold, settings.heatmap_max_side)
    done = time.perf_counter()

    cols, rows = output.grid
    return LocateResponse(
        request_id=request_id,
        model=ModelRef(name=model.model_name, id=model.model_id, triton_model=contract.TOKENFD_LOCATE),
        query=options.query,
        threshold=threshold,
        tokens=tokens,
        grid=GridInfo(cols=cols, rows=rows, num_tiles=output.num_tiles, thumbnail=cols * rows > 1,
                      tile_size=contract.TILE_SIZE, feature_width=int(output.similarity.shape[2]),
                      feature_height=int(output.similarity.shape[1])),
        image=ImageInfo(width=output.image_size[0], height=output.image_size[1]),
        timings=Timings(decode_s=parsed.read_s, upstream_s=answered - start,
                        postprocess_s=done - answered, total_s=parsed.read_s + done - start),
    )


def _token_results(output: LocateOutput, options: LocateOptions, threshold: float,
                   heatmap_max_side: int) -> list[TokenResult]:
    size = maps.heatmap_size(output.image_size, heatmap_max_side)
    results = []
    for index, (token_id, text) in enumerate(zip(output.token_ids, output.token_texts, strict=True)):
        grid = np.asarray(output.similarity[index], dtype=np.float32)
        heatmap = None
        if options.heatmap_format is HeatmapFormat.png:
            heatmap = Heatmap(format=HeatmapFormat.png, width=size[0], height=size[1],
                              png_base64=maps.heatmap_png_base64(grid, size))
        elif options.heatmap_format is HeatmapFormat.raw:
            heatmap = Heatmap(format=HeatmapFormat.raw, width=grid.shape[1], height=grid.shape[0],
                              values=grid.tolist())
        boxes = maps.boxes_above(grid, threshold, output.image_size, max_boxes=options.max_boxes)
        results.append(TokenResult(
            index=index, token_id=token_id, text=text, max_similarity=float(grid.max()), heatmap=heatmap,
            boxes=[BoxOut(x0=b.x0, y0=b.y0, x1=b.x1, y1=b.y1, score=b.score) for b in boxes]))
    return results
