"""Writes the small annotated set the ConvKit.Vision data tests read: four pictures with the same objects annotated
as COCO JSON, Pascal VOC XML and YOLO txt, and segmentation masks of two of them as index (grey) and palette PNGs.

Run from this folder with /usr/bin/python3 (Pillow): python3 make_annotated.py
Every object is a filled rectangle; its box is the rectangle's pixel extent (left, top, right + 1, bottom + 1).
"""
import json
import os

from PIL import Image, ImageDraw

CLASSES = ["cat", "dog", "bird"]            # class index order everywhere
COCO_IDS = {"cat": 3, "dog": 7, "bird": 11}  # non-contiguous COCO category ids, listed out of order below
COLOURS = {"cat": (230, 120, 40), "dog": (40, 160, 230), "bird": (250, 230, 60)}

# file, width, height, objects: (class, x, y, w, h, difficult) in pixels
PICTURES = [
    ("a.png", 64, 48, [("cat", 4, 6, 20, 14, 0), ("dog", 36, 20, 22, 24, 0)]),
    ("b.png", 48, 64, [("bird", 10, 3, 9, 9, 0), ("cat", 0, 30, 48, 34, 1)]),
    ("c.png", 64, 48, [("dog", 50, 0, 14, 48, 0), ("bird", 20, 20, 1, 1, 0), ("dog", 5, 30, 10, 10, 0)]),
    ("d.png", 40, 40, []),  # a background picture: no objects
]


def draw(width, height, objects):
    image = Image.new("RGB", (width, height), (30, 30, 30))
    pen = ImageDraw.Draw(image)
    for name, x, y, w, h, _ in objects:
        pen.rectangle([x, y, x + w - 1, y + h - 1], fill=COLOURS[name])
    return image


def voc_palette():
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        palette += [r, g, b]
    return palette


def main():
    for folder in ["images", "coco", "voc", "yolo", "masks_index", "masks_palette"]:
        os.makedirs(folder, exist_ok=True)

    coco = {"images": [], "annotations": [], "categories": []}
    for name in ["bird", "cat", "dog"]:
        coco["categories"].append({"id": COCO_IDS[name], "name": name, "supercategory": "animal"})
    annotation_id = 100
    for image_id, (file, width, height, objects) in enumerate(PICTURES, start=1):
        draw(width, height, objects).save(os.path.join("images", file))
        coco["images"].append({"id": image_id, "file_name": file, "width": width, "height": height})
        stem = file[:-4]
        xml = [f"<annotation>\n  <folder>images</folder>\n  <filename>{file}</filename>\n",
               f"  <size><width>{width}</width><height>{height}</height><depth>3</depth></size>\n"]
        yolo = []
        for name, x, y, w, h, difficult in objects:
            annotation_id += 1
            coco["annotations"].append({"id": annotation_id, "image_id": image_id, "category_id": COCO_IDS[name],
                                        "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
            # VOC: 1-based pixel indices, both ends inclusive.
            xml.append(f"  <object>\n    <name>{name}</name>\n    <difficult>{difficult}</difficult>\n"
                       f"    <bndbox><xmin>{x + 1}</xmin><ymin>{y + 1}</ymin><xmax>{x + w}</xmax><ymax>{y + h}</ymax></bndbox>\n"
                       f"  </object>\n")
            yolo.append(f"{CLASSES.index(name)} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} {w / width:.6f} {h / height:.6f}\n")
        xml.append("</annotation>\n")
        with open(os.path.join("voc", stem + ".xml"), "w") as f:
            f.write("".join(xml))
        if objects:  # a background picture has no label file
            with open(os.path.join("yolo", stem + ".txt"), "w") as f:
                f.write("".join(yolo))
    # A crowd region over picture a: readers leave it out.
    coco["annotations"].append({"id": 999, "image_id": 1, "category_id": 7, "bbox": [0, 0, 30, 30], "area": 900, "iscrowd": 1})
    with open(os.path.join("coco", "instances.json"), "w") as f:
        json.dump(coco, f, indent=1)
    with open(os.path.join("yolo", "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")

    # Segmentation masks of a and c: background 0, class k is k + 1 (classes background, cat, dog, bird),
    # and a one-pixel 255 ("void", ignored) frame around the first object, as VOC draws object boundaries.
    palette = voc_palette()
    for file, width, height, objects in [PICTURES[0], PICTURES[2]]:
        mask = Image.new("L", (width, height), 0)
        pen = ImageDraw.Draw(mask)
        for i, (name, x, y, w, h, _) in enumerate(objects):
            if i == 0:
                pen.rectangle([x - 1, y - 1, x + w, y + h], outline=255)
            pen.rectangle([x, y, x + w - 1, y + h - 1], fill=CLASSES.index(name) + 1)
        mask.save(os.path.join("masks_index", file))
        indexed = mask.copy()
        indexed.putpalette(palette)
        indexed = indexed.convert("P") if indexed.mode != "P" else indexed
        indexed.save(os.path.join("masks_palette", file))


if __name__ == "__main__":
    main()
