"""A GRPO reward that looks at the prompt's image: 1.0 when the completion names the colour of the shape in the
row's image (swift/shapes-vqa draws one solid shape on white), else 0.0.

    swift rlhf --rlhf_type grpo --model swift/tiny-qwen2-vl --dataset 'swift/shapes-vqa#8' \
        --external_plugins examples/plugins/colour_reward.py --reward_funcs shape_colour \
        --num_generations 2 --per_device_train_batch_size 2 \
        --max_completion_length 16 --max_steps 4

`images` holds each row's image references as the dataset gives them (paths, data URLs, ...), one list per
completion; swift.template.vision.load_image opens any of them."""
from swift.dataset.shapes import COLORS
from swift.plugin import ORM, orms
from swift.template.vision import load_image


def shape_colour(image) -> str:
    """The name of the palette colour nearest the image's centre pixel."""
    rgb = load_image(image).convert('RGB')
    pixel = rgb.getpixel((rgb.width // 2, rgb.height // 2))
    return min(COLORS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLORS[name], pixel)))


class ShapeColour(ORM):

    def __call__(self, completions, images, **kwargs):
        rewards = []
        for completion, row_images in zip(completions, images):
            if not row_images:
                rewards.append(None)  # a text-only row: this reward has nothing to say
                continue
            rewards.append(float(shape_colour(row_images[0]) in completion.lower()))
        return rewards


orms['shape_colour'] = ShapeColour
