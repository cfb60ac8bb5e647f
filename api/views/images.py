"""POST /v1/images/generations."""
from api.openapi.responses_media import images_schema
from api.request_schemas.media import parse_image
from api.services import images as images_service
from api.views.base import RelayView, json_response


class ImageGenerationsView(RelayView):
    endpoint = "images.generations"

    @images_schema
    async def post(self, request):
        upstream_key = self.key_of(request)
        body = await images_service.generate(parse_image(request.data), upstream_key, self.call)
        return json_response(body)
